import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { eventually } from '../../support/eventually.ts';
import { acceptsConnections, freePort } from '../../support/net.ts';

/** A private redis-server on a loopback port, that a test may stop and start again. */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGTERM; no persistence configured, so nothing is kept). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

/**
 * Runs `redis-server` privately, so that restarting it cannot disturb the shared Redis other tests
 * and services use. Fails with a clear message when redis-server is not installed (it is part of
 * the CI machine, next to the shared Redis on 6379).
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error('redis-server is not installed: the Redis restart test needs it (apt-get install redis-server)');
  }
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await eventually(() => acceptsConnections(port), { timeoutMs: 10_000, intervalMs: 50, what: `a private redis-server on port ${port}` });
  };
  const stop = async () => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill('SIGTERM');
    await exited;
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, stop, start };
}
