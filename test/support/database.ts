import pg from 'pg';
import type { MikroORM } from '@mikro-orm/postgresql';
import { startEmbeddedPostgres } from '../../src/platform/db/embedded-postgres.ts';
import { createOrm, migrate } from '../../src/platform/db/orm.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { allEntities, allMigrations as migrations } from '../../src/modules.ts';

/** A migrated, empty database of its own for one test file. */
export interface TestDatabase {
  /** Connection string of this database. */
  readonly url: string;
  /** Pool size this database takes (1 on the embedded PGlite). */
  readonly poolMax: number;
  /** True on the embedded PGlite, false on a real PostgreSQL server. */
  readonly embedded: boolean;
  /** Opens a MikroORM on it; `onQuery` sees every SQL statement. Closed by `close()`. */
  openOrm(options?: { onQuery?: (sql: string) => void }): Promise<MikroORM>;
  close(): Promise<void>;
}

/**
 * Creates a fresh database and applies every migration.
 * With `TEST_DATABASE_URL` (CI points it at the real PostgreSQL 15) a new database named
 * `og_test_<random>` is created on that server and dropped afterwards; without it an in-memory
 * embedded PGlite is started, so `npm test` needs no database server.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  const logger = createLogger('silent');
  const orms: MikroORM[] = [];
  let url: string;
  let poolMax: number;
  let teardown: () => Promise<void>;
  if (adminUrl) {
    const name = await createScratchDatabase(adminUrl, 'og_test');
    const target = new URL(adminUrl);
    target.pathname = `/${name}`;
    url = target.toString();
    poolMax = 10;
    teardown = async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    };
  } else {
    const embedded = await startEmbeddedPostgres(undefined);
    url = embedded.url;
    poolMax = embedded.maxConnections;
    teardown = () => embedded.stop();
  }
  const migrator = await createOrm({ url, poolMax, debug: false, entities: allEntities, migrations, logger });
  await migrate(migrator);
  await migrator.close();
  return {
    url,
    poolMax,
    embedded: !adminUrl,
    async openOrm(options) {
      const orm = await createOrm({ url, poolMax, debug: false, entities: allEntities, migrations, logger, ...(options?.onQuery ? { onQuery: options.onQuery } : {}) });
      orms.push(orm);
      return orm;
    },
    async close() {
      for (const orm of orms) await orm.close();
      await teardown();
    },
  };
}

/** Creates an empty database named `<prefix>_<random>` on the server of `adminUrl`. @returns its name. */
export async function createScratchDatabase(adminUrl: string, prefix: string): Promise<string> {
  const name = `${prefix}_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return name;
}
