import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually } from '../support/eventually.ts';
export { freePort } from '../support/net.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** The gateway as a real child process (`node src/main.ts`), as `npm start` runs it. */
export interface GatewayProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves with the exit signal (e.g. 'SIGKILL') or code when the process ends. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts the gateway on `port` with `env` on top of a clean test environment, and waits until it
 * answers GraphQL (at most `readyTimeoutMs`).
 * @throws when it exits or does not answer in time (with its stderr).
 */
export async function startGateway(port: number, env: Record<string, string>, readyTimeoutMs = 30_000): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}/graphql`;
  const died = new AbortController();
  void exited.then(() => died.abort(new Error('exited')));
  try {
    // Until it listens, fetch fails (connection refused) and the probe is tried again.
    await eventually(
      async () => {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
        return response.ok;
      },
      { timeoutMs: readyTimeoutMs, intervalMs: 100, what: 'the gateway to answer', signal: died.signal },
    );
  } catch {
    child.kill('SIGKILL');
    throw new Error(`gateway did not become ready on port ${port}: ${stderr.slice(-2_000)}`);
  }
  return { url, child, exited, stderr: () => stderr, kill: (signal = 'SIGKILL') => void child.kill(signal) };
}
