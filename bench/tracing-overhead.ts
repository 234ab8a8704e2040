// Tracing overhead: requests/s of the same gateway with OpenTelemetry tracing on (spans for HTTP,
// the GraphQL operation, use cases and SQL, exported over OTLP/HTTP to a local sink) and off
// (OTEL_SDK_DISABLED=true), side by side in one run: two gateway processes on one database, loaded
// in alternating rounds so drift (caches, the machine's other work) hits both alike.
//
//   npm run bench:tracing                                   # embedded PGlite (its single session dominates)
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:tracing   # real PostgreSQL
//
// Knobs: BENCH_ROUNDS (pairs, default 8), BENCH_ROUND_MS (default 5000), BENCH_CONCURRENCY (default 16).
// Loopback only; every loop is bounded by rounds × round time. Not part of `npm test`.
import { mkdir, writeFile } from 'node:fs/promises';
import { createTestDatabase } from '../test/support/database.ts';
import { generateJwtKey, gql, PRODUCTS, startGateway, type Gateway } from '../test/ops/support/gateway.ts';
import { freePort } from '../test/support/net.ts';
import { startOtlpSink } from './lib/otlp-sink.ts';
import { stopChildrenOnSignals } from './lib/stop-children-on-signal.ts';

// SIGINT/SIGTERM (to this process or to `npm run bench:tracing`) also stop the gateways it started.
stopChildrenOnSignals();

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 5_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WARMUP_MS = 5_000;

/** Closed-loop load: CONCURRENCY workers send the Products query back to back for `ms`. */
async function load(gateway: Gateway, ms: number): Promise<{ rps: number; p50: number; p99: number; failures: number }> {
  const deadline = performance.now() + ms;
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const started = performance.now();
        try {
          const { body } = await gql(gateway.url, PRODUCTS, { first: 20 });
          if (body.errors) {
            failures += 1;
            firstFailure ??= JSON.stringify(body.errors[0]);
          }
        } catch (error) {
          failures += 1;
          firstFailure ??= String(error);
        }
        latencies.push(performance.now() - started);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  if (firstFailure) console.log(`    failures: ${failures}, first: ${firstFailure}`);
  return { rps: latencies.length / (ms / 1_000), p50: at(0.5), p99: at(0.99), failures };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const db = await createTestDatabase();
const sink = await startOtlpSink();
const jwtKey = generateJwtKey();
// Production mode (no GraphiQL, quiet logs), without rate limits: they would cap both sides alike.
const common = { DATABASE_URL: db.url, DB_POOL_MAX: String(db.poolMax), JWT_PRIVATE_KEY: jwtKey, LOG_LEVEL: 'warn', NODE_ENV: 'production', SEED_DEMO_DATA: 'false', RATE_LIMITS: 'false' };
// The first one seeds (outside production mode), the second starts on the seeded database.
const seeder = await startGateway({ ...common, LOG_LEVEL: 'info', NODE_ENV: 'test', SEED_DEMO_DATA: 'true', OTEL_SDK_DISABLED: 'true' });
await seeder.stop();
const gateways = {
  on: await startGateway({ ...common, PORT: String(await freePort()), OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint }),
  off: await startGateway({ ...common, PORT: String(await freePort()), OTEL_SDK_DISABLED: 'true' }),
};
try {
  console.log(`tracing overhead: ${ROUNDS} pairs of ${ROUND_MS} ms rounds, concurrency ${CONCURRENCY}, database ${db.embedded ? 'embedded PGlite' : 'PostgreSQL'}`);
  await load(gateways.on, WARMUP_MS);
  await load(gateways.off, WARMUP_MS);
  const pairs: { on: Awaited<ReturnType<typeof load>>; off: Awaited<ReturnType<typeof load>>; ratio: number }[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    // Alternate which side goes first, so a trend over time does not favour one.
    const order = round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
    const result: Partial<Record<'on' | 'off', Awaited<ReturnType<typeof load>>>> = {};
    for (const side of order) result[side] = await load(gateways[side], ROUND_MS);
    const ratio = result.on!.rps / result.off!.rps;
    pairs.push({ on: result.on!, off: result.off!, ratio });
    console.log(
      `  round ${round + 1}: tracing on ${result.on!.rps.toFixed(0)} req/s (p50 ${result.on!.p50.toFixed(1)} ms)` +
        ` | off ${result.off!.rps.toFixed(0)} req/s (p50 ${result.off!.p50.toFixed(1)} ms) | on/off ${ratio.toFixed(3)}`,
    );
  }
  const ratios = pairs.map((p) => p.ratio);
  const summary = {
    date: new Date().toISOString(),
    database: db.embedded ? 'pglite' : 'postgresql',
    rounds: ROUNDS,
    roundMs: ROUND_MS,
    concurrency: CONCURRENCY,
    medianRps: { on: median(pairs.map((p) => p.on.rps)), off: median(pairs.map((p) => p.off.rps)) },
    ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
    failures: pairs.reduce((n, p) => n + p.on.failures + p.off.failures, 0),
    otlpExports: sink.requests(),
    pairs,
  };
  console.log(
    `throughput with tracing / without: median ${summary.ratio.median.toFixed(3)} (spread ${summary.ratio.min.toFixed(3)}–${summary.ratio.max.toFixed(3)}), ` +
      `i.e. ${((1 - summary.ratio.median) * 100).toFixed(1)} % overhead; ${summary.failures} failed requests; ${summary.otlpExports} OTLP exports received`,
  );
  await mkdir(new URL('./results/raw/', import.meta.url), { recursive: true });
  const file = new URL(`./results/raw/tracing-overhead-${summary.date.replaceAll(':', '-')}.json`, import.meta.url);
  await writeFile(file, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`raw results: ${file.pathname}`);
} finally {
  await Promise.all([gateways.on.stop(), gateways.off.stop()]);
  await sink.close();
  await db.close();
}
