import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { demoToken, generateJwtKey, startGateway, type Gateway } from './support/gateway.ts';

/**
 * What an operator reads: a client's oversized WebSocket message is one JSON warning, and a
 * start-up that fails says why in exactly one line on stderr (issue 10, item 9).
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

/** Runs the server as the Dockerfile and `npm start` do, until it exits (bounded); stdout and stderr apart. */
async function runServer(env: Record<string, string>, timeoutMs = 90_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ordergraph-start-failure-'));
  try {
    const child = spawn(process.execPath, ['--import', './src/platform/telemetry/register.ts', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', HOST: '127.0.0.1', DATA_DIR: dataDir, GRAPHIQL: 'false', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => void (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)));
    clearTimeout(timer);
    return { code, stdout, stderr };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('start-up failures are one line on stderr', () => {
  let occupier: Server;
  let busyPort: number;
  beforeAll(async () => {
    occupier = createServer();
    await new Promise<void>((resolve) => occupier.listen(0, '127.0.0.1', resolve));
    busyPort = (occupier.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => occupier?.close(() => resolve())));

  it('a busy port: one line naming the address in use, exit code 1', async () => {
    const result = await runServer({ PORT: String(busyPort), DATABASE_URL: db.url, DB_POOL_MAX: String(db.poolMax), LOG_LEVEL: 'warn' });
    expect(result.stderr.split('\n').filter(Boolean), result.stderr).toEqual([`Ordergraph failed to start: listen EADDRINUSE: address already in use 127.0.0.1:${busyPort}`]);
    expect(result.code).toBe(1);
    // stdout holds JSON log lines only (no stack trace there either).
    for (const line of result.stdout.split('\n').filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it('an invalid configuration: one line naming every invalid variable, exit code 1', async () => {
    const result = await runServer({ PORT: 'abc', LOG_LEVEL: 'loud' });
    const lines = result.stderr.split('\n').filter(Boolean);
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^Ordergraph failed to start: invalid configuration: .*PORT .*; .*LOG_LEVEL |^Ordergraph failed to start: invalid configuration: .*LOG_LEVEL .*; .*PORT /);
    expect(result.code).toBe(1);
  });
});

describe('a WebSocket message over the size cap', () => {
  let gateway: Gateway;
  let stderr = '';
  beforeAll(async () => {
    gateway = await startGateway({ DATABASE_URL: db.url, DB_POOL_MAX: String(db.poolMax), JWT_PRIVATE_KEY: generateJwtKey() });
    gateway.child.stderr!.on('data', (chunk: Buffer | string) => void (stderr += String(chunk)));
  });
  afterAll(() => gateway?.stop());

  it('closes the socket with 1009 and logs one JSON warning with the client address, no stack, nothing on stderr', async () => {
    const token = await demoToken(gateway.url, 'basic');
    const socket = new WebSocket(gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    await new Promise((resolve) => socket.once('message', resolve));
    socket.send(JSON.stringify({ id: 'big', type: 'subscribe', payload: { query: '{ me { id } }', variables: { padding: 'x'.repeat(70_000) } } }));
    expect(await closed).toBe(1009);

    const line = await gateway.waitForLog((l) => l.msg === 'WebSocket message refused', 10_000);
    expect(line).toMatchObject({ level: 40, clientAddress: '127.0.0.1', error: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' });
    expect(JSON.stringify(line)).not.toMatch(/\bat .+:\d+:\d+|"stack"/);
    // The line is written where the stack trace was printed, in the same turn: nothing came before it.
    expect(stderr).toBe('');
  });
});
