// scratch: heap snapshot of Ordergraph holding N idle subscriptions (not committed)
import { fork, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import WebSocket from 'ws';
import { demoToken, generateJwtKey } from '../../test/ops/support/gateway.ts';
import { freePort } from '../../test/support/net.ts';
import { ROOT, startServerProcess } from './processes.ts';

const N = Number(process.env.N ?? 2000);
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
await admin.query('drop database if exists og_heap with (force)');
await admin.query('create database og_heap');
await admin.end();
const dbUrl = 'postgres://postgres@127.0.0.1:5432/og_heap';
const dataDir = await mkdtemp(join(tmpdir(), 'og-heap-'));
const env = { DATA_DIR: dataDir, JWT_PRIVATE_KEY: generateJwtKey(), LOG_LEVEL: 'warn', RATE_LIMITS: 'false', HOST: '127.0.0.1' };
const seeded = spawnSync(process.execPath, ['src/cli/seed.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env, NODE_ENV: 'development', DATABASE_URL: dbUrl }, encoding: 'utf8' });
if (seeded.status !== 0) throw new Error(seeded.stderr);
const port = await freePort();
const server = await startServerProcess({ args: ['--import', './src/platform/telemetry/register.ts', 'src/main.ts'], env: { ...env, NODE_ENV: 'production', DATABASE_URL: dbUrl, PORT: String(port) }, ready: async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok });
const url = `http://127.0.0.1:${port}/graphql`;
const token = await demoToken(url, 'admin');
const worker = fork(new URL('./client-worker.ts', import.meta.url).pathname, [], { serialization: 'advanced' });
await new Promise((r) => worker.once('message', r));
worker.send({ type: 'connect', url: url.replace('http', 'ws'), token, count: 50, concurrency: 64, query: 'subscription Follow { orderStatusChanged { version from to at order { id number status total { amount currency } } } }', variables: {} });
await new Promise((r) => worker.once('message', r));
await new Promise((r) => setTimeout(r, 1000));
worker.send({ type: 'close' });
await new Promise((r) => worker.once('message', r));
await new Promise((r) => setTimeout(r, 1000));
await snapshot('/tmp/heap/base.heapsnapshot');
worker.send({ type: 'connect', url: url.replace('http', 'ws'), token, count: N, concurrency: 64, query: 'subscription Follow { orderStatusChanged { version from to at order { id number status total { amount currency } } } }', variables: {} });
await new Promise((r) => worker.once('message', r));
await new Promise((r) => setTimeout(r, 3000));
console.log(await server.memory());
await snapshot(process.env.OUT ?? '/tmp/heap/og.heapsnapshot');
worker.kill();
await server.stop();
console.log('done');
process.exit(0);
async function snapshot(file: string) {
const inspectorUrl = /Debugger listening on (ws:\/\/\S+)/.exec(server.output())![1]!;
const socket = new WebSocket(inspectorUrl, { maxPayload: 1 << 30 });
await new Promise((r) => socket.once('open', r));
const out = createWriteStream(file);
await new Promise<void>((resolve) => {
  socket.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString());
    if (m.method === 'HeapProfiler.addHeapSnapshotChunk') out.write(m.params.chunk);
    if (m.id === 2) resolve();
  });
  socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
  socket.send(JSON.stringify({ id: 2, method: 'HeapProfiler.takeHeapSnapshot', params: { reportProgress: false } }));
});
out.end();
socket.close();
}
