// Idle anonymous WebSockets (issue 10, item 7): N sockets from one address each send
// `connection_init {}` (no token), get their ack and then do nothing; how many are still open
// WS_ANONYMOUS_IDLE_MS plus a grace after the last ack, and with which close codes the others ended.
//
//   node bench/ws-idle-sockets.ts                        # starts its own Ordergraph (embedded PGlite)
//   BENCH_WS_URL=http://127.0.0.1:4000/graphql BENCH_WS_IDLE_MS=10000 node bench/ws-idle-sockets.ts
//                                                         # a running server (e.g. an earlier commit)
//
// Knobs: BENCH_WS_SOCKETS (1000), BENCH_WS_IDLE_MS (the server's WS_ANONYMOUS_IDLE_MS; 10000, the
// default; also passed to the server it starts), BENCH_WS_GRACE_MS (2000), BENCH_WS_URL (none:
// start one, with WS_MAX_SOCKETS_PER_ADDRESS above the socket count). Loopback only; bounded by
// the handshakes plus idle + grace. Raw results in bench/results/raw/ws-idle-sockets-*.json.
import { mkdir, writeFile } from 'node:fs/promises';
import WebSocket from 'ws';
import { startGateway, type Gateway } from '../test/ops/support/gateway.ts';
import { stopChildrenOnSignals } from './lib/stop-children-on-signal.ts';

stopChildrenOnSignals();

const SOCKETS = Number(process.env.BENCH_WS_SOCKETS ?? 1_000);
const IDLE_MS = Number(process.env.BENCH_WS_IDLE_MS ?? 10_000);
const GRACE_MS = Number(process.env.BENCH_WS_GRACE_MS ?? 2_000);
/** Handshakes in flight at once. */
const CONCURRENCY = 50;

interface Tracked {
  ackAt: number;
  closed?: { code: number; at: number };
}

/** Opens one socket, sends connection_init without a token, resolves at its ack. */
function openAnonymous(url: string, sockets: WebSocket[], tracked: Tracked[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
    const entry: Tracked = { ackAt: Number.NaN };
    socket.once('open', () => socket.send('{"type":"connection_init","payload":{}}'));
    socket.on('message', (data: Buffer) => {
      if (!Number.isNaN(entry.ackAt) || !data.toString().includes('"connection_ack"')) return;
      entry.ackAt = performance.now();
      tracked.push(entry);
      sockets.push(socket);
      resolve();
    });
    socket.once('error', reject);
    socket.once('close', (code) => {
      entry.closed = { code, at: performance.now() };
      if (Number.isNaN(entry.ackAt)) reject(new Error(`closed before its ack: ${code}`));
    });
  });
}

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

let gateway: Gateway | undefined;
const sockets: WebSocket[] = [];
try {
  let url = process.env.BENCH_WS_URL;
  if (!url) {
    // The embedded database in a temporary directory; every socket comes from 127.0.0.1, so the
    // per-address cap is raised above the count (this measures the idle rule, not the cap).
    gateway = await startGateway({ WS_ANONYMOUS_IDLE_MS: String(IDLE_MS), WS_MAX_SOCKETS_PER_ADDRESS: String(SOCKETS + 100) });
    url = gateway.url;
  }
  const wsUrl = url.replace(/^http/, 'ws');
  const tracked: Tracked[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < SOCKETS) {
        next += 1;
        await openAnonymous(wsUrl, sockets, tracked).catch((error: unknown) => {
          failed += 1;
          firstFailure ??= String(error);
        });
      }
    }),
  );
  const lastAck = Math.max(...tracked.map((t) => t.ackAt));
  console.log(`${tracked.length}/${SOCKETS} anonymous sockets acknowledged in ${Math.round(lastAck - started)} ms${failed ? ` (${failed} failed: ${firstFailure})` : ''}`);

  // Waits until every socket has closed, or until idle + grace after the last ack.
  const deadline = lastAck + IDLE_MS + GRACE_MS;
  while (tracked.some((t) => !t.closed) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const measuredAt = performance.now();
  const open = tracked.filter((t) => !t.closed).length;
  const codes: Record<string, number> = {};
  for (const t of tracked) if (t.closed) codes[t.closed.code] = (codes[t.closed.code] ?? 0) + 1;
  const lifetimes = tracked.filter((t) => t.closed).map((t) => t.closed!.at - t.ackAt).sort((a, b) => a - b);
  const summary = {
    date: new Date().toISOString(),
    url,
    sockets: SOCKETS,
    acknowledged: tracked.length,
    idleMs: IDLE_MS,
    graceMs: GRACE_MS,
    openAfterIdlePlusGrace: open,
    measuredMsAfterLastAck: Math.round(measuredAt - lastAck),
    closeCodes: codes,
    closedMsAfterAck: lifetimes.length ? { min: Math.round(lifetimes[0]!), p50: Math.round(percentile(lifetimes, 0.5)), max: Math.round(lifetimes.at(-1)!) } : null,
  };
  console.log(
    `${open} of ${tracked.length} idle anonymous sockets still open ${summary.measuredMsAfterLastAck} ms after the last ack ` +
      `(WS_ANONYMOUS_IDLE_MS ${IDLE_MS} + grace ${GRACE_MS}); close codes ${JSON.stringify(codes)}; ` +
      `closed ${summary.closedMsAfterAck ? `${summary.closedMsAfterAck.min}–${summary.closedMsAfterAck.max} ms (median ${summary.closedMsAfterAck.p50})` : 'never'} after their ack`,
  );
  await mkdir(new URL('./results/raw/', import.meta.url), { recursive: true });
  const file = new URL(`./results/raw/ws-idle-sockets-${summary.date.replaceAll(':', '-')}.json`, import.meta.url);
  await writeFile(file, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`raw results: ${file.pathname}`);
} finally {
  for (const socket of sockets) socket.terminate();
  await gateway?.stop();
}
