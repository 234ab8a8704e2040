import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** A running embedded PostgreSQL (PGlite behind the Postgres wire protocol) on a loopback port. */
export interface EmbeddedPostgres {
  /** Connection string for `pg` / MikroORM, e.g. `postgres://postgres@127.0.0.1:41234/postgres`. */
  readonly url: string;
  /**
   * Pool size for one client of this server. PGlite is a single Postgres session: it runs one
   * statement at a time, and while one connection has a transaction open the others wait. One
   * connection per pool keeps a request from ever waiting on its own transaction (docs/adr/0002).
   */
  readonly maxConnections: 1;
  stop(): Promise<void>;
}

/**
 * Starts PGlite, persisted under `dataDir` (or in memory when `dataDir` is undefined), and serves it
 * over TCP on 127.0.0.1 with an OS-assigned port. Reopening a saved directory takes ~0.3 s, a fresh
 * one ~2.5 s (shared/notes/stack.md).
 */
export async function startEmbeddedPostgres(dataDir: string | undefined): Promise<EmbeddedPostgres> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir ? { dataDir } : {});
  // Several clients may connect (the app, `npm run migrate`, psql, a closing pool's last socket);
  // the server queues their statements and keeps transactions whole.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    maxConnections: 1,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
