import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../support/net.ts';

/** A private PostgreSQL server (its own cluster on a loopback port) that a test may stop and start again. */
export interface PrivatePostgres {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  readonly url: string;
  /** Stops the server (fast shutdown: open connections are terminated); the cluster stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and cluster. */
  start(): Promise<void>;
  /** Stops it if running and deletes the cluster. */
  destroy(): Promise<void>;
}

/** Where initdb and pg_ctl are: on PATH, else Debian's newest /usr/lib/postgresql/<version>/bin. */
function postgresBin(): string {
  if (spawnSync('initdb', ['--version']).status === 0) return '';
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('initdb is not installed: the database outage test needs the PostgreSQL server binaries (apt-get install postgresql)');
  return join(root, newest, 'bin');
}

/** initdb and the server refuse to run as root: run them as the `postgres` account then. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const [uid, gid] = [id('-u'), id('-g')];
  if (uid.status !== 0 || gid.status !== 0) throw new Error('running as root without a `postgres` account: initdb cannot run as root');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Creates a cluster with `initdb` in a temporary directory and runs it with `pg_ctl` on a free
 * loopback port (no Unix socket, fsync off: it is thrown away), so that stopping it cannot disturb
 * the shared PostgreSQL other tests use. Clean up with `destroy()` (in afterAll).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBin();
  const user = runAs();
  const dir = await mkdtemp(join(tmpdir(), 'ordergraph-pg-'));
  if (user) await chown(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  const run = async (command: string, args: string[], what: string) => {
    try {
      await promisify(execFile)(bin ? join(bin, command) : command, args, { cwd: dir, timeout: 90_000, ...(user ?? {}) });
    } catch (error) {
      const { stderr, stdout, message } = error as { stderr?: string; stdout?: string; message: string };
      throw new Error(`${what} failed: ${message}\n${stderr ?? ''}${stdout ?? ''}`);
    }
  };
  const serverOptions = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off -c max_connections=50`;
  const start = () => run('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start'], `pg_ctl start on port ${port}`);
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop'], `pg_ctl stop on port ${port}`);
  const running = () => existsSync(join(data, 'postmaster.pid'));
  try {
    await run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale', 'C'], 'initdb');
    await start();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    async destroy() {
      if (running()) await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
