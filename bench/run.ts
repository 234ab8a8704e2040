// Request benchmarks of issue #6 (`npm run bench`): Ordergraph (O) against the practical limit (R:
// node:http + pg, one hand-written SQL statement per shape) and against what many teams would
// write instead (A: Apollo Server with per-field queries), on the same PostgreSQL tables, data and
// pool size, for three shapes: S1 order(id) scalars, S2 orders(first: 50) with lines → product and
// customer, S3 placeOrder with 3 lines.
//
// Method: every contestant is its own process (CPU time read from /proc/<pid>/stat). Before any
// figure counts, every contestant's response to sampled variables must deep-equal R's (minus the
// fields that legitimately differ, see EXCLUDED_FIELDS) and every measured request must succeed.
// SQL statements per request are counted at the wire by a proxy in front of PostgreSQL, on
// separate instances of the contestants, sequentially. Throughput: several rounds; in each round
// every shape is run by each contestant in turn (order rotated per round), each with a warm-up,
// at a fixed concurrency (autocannon, bounded by time); the ratios of one round are taken side by
// side, and the report gives the median of the per-round ratios with their spread (min–max).
//
// Knobs (env): BENCH_ROUNDS (5), BENCH_ROUND_SECONDS (5), BENCH_WARMUP_SECONDS (2),
// BENCH_CONCURRENCY (16), BENCH_POOL_MAX (10), BENCH_SHAPES (S1,S2,S3), BENCH_CONTESTANTS (R,O,A),
// BENCH_CHECK_SAMPLES (10), BENCH_COUNT_REQUESTS (10), BENCH_ADMIN_URL (a database on the server
// where CREATE DATABASE may run; default TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres),
// BENCH_DATABASE (ordergraph_bench), BENCH_RESEED (false), BENCH_SUBSCRIPTIONS (true: then runs the
// subscription benchmark, bench/subscriptions.ts, with its own BENCH_SUBS_* knobs), BENCH_CPU_PROFILE (a directory: O runs
// with --cpu-prof into it), BENCH_O_ENV (extra KEY=VALUE,… for O, for experiments), BENCH_O_ROOT (run O
// from another checkout, e.g. a `git worktree` of an earlier commit, for before/after figures).
// Loopback only; every loop is bounded by rounds × durations. Not part of `npm test`.
import { generateKeyPairSync, randomUUID, createPublicKey } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { JoseTokenService } from '../src/modules/customers/infrastructure/jose-token-service.ts';
import { startStatementCounter, type SeenStatement } from './lib/pg-counter.ts';
import { freePort } from '../test/support/net.ts';
import { startOtlpSink } from './lib/otlp-sink.ts';
import { cpuSeconds, loadAverage, machine, postgresCpuDelta, postgresCpuSnapshot, startServer, type ServerProcess } from './lib/proc.ts';
import { writeReport, type BenchRun, type Report } from './lib/report.ts';
import { DECLINE_ABOVE_MINOR, DOCUMENTS, EXCLUDED_FIELDS, encodeCursor, globalId, type ShapeName } from './lib/shapes.ts';
import { ADMIN_EMAIL, S3_KEY_PREFIX, ensureBenchDatabase } from './seed.ts';
import { runSubscriptionBench } from './subscriptions.ts';

const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 5);
const ROUND_SECONDS = Number(env.BENCH_ROUND_SECONDS ?? 5);
const WARMUP_SECONDS = Number(env.BENCH_WARMUP_SECONDS ?? 2);
const CONCURRENCY = Number(env.BENCH_CONCURRENCY ?? 16);
const POOL_MAX = Number(env.BENCH_POOL_MAX ?? 10);
const CHECK_SAMPLES = Number(env.BENCH_CHECK_SAMPLES ?? 10);
const COUNT_REQUESTS = Number(env.BENCH_COUNT_REQUESTS ?? 10);
const SHAPES = (env.BENCH_SHAPES ?? 'S1,S2,S3').split(',').map((s) => s.trim()) as ShapeName[];
const CONTESTANTS = (env.BENCH_CONTESTANTS ?? 'R,O,A').split(',').map((s) => s.trim()) as Contestant[];
const ADMIN_URL = env.BENCH_ADMIN_URL ?? env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ISSUER = 'ordergraph';
const AUDIENCE = 'ordergraph-api';
const TOKEN_TTL_SECONDS = 3_600;

type Contestant = 'R' | 'O' | 'A';
type Request = { headers: Record<string, string>; body: string };
type Payload = { data?: unknown; errors?: unknown };

const log = (line: string) => console.log(line);
const started = Date.now();

// ---------------------------------------------------------------------------------------------
// Database, keys, samples.
const db = await ensureBenchDatabase({ adminUrl: ADMIN_URL, name: env.BENCH_DATABASE ?? 'ordergraph_bench', poolMax: POOL_MAX, reseed: env.BENCH_RESEED === 'true', log });
const poolMax = db.embedded ? 1 : POOL_MAX;
log(`database: ${db.embedded ? 'embedded PGlite' : new URL(db.url).host + new URL(db.url).pathname}, ${JSON.stringify(db.counts)}`);

const { privateKey: privatePem } = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const publicPem = createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString();
// Ordergraph's own token service mints the tokens, so every contestant checks real ones.
const tokens = await JoseTokenService.fromPkcs8(privatePem, { issuer: ISSUER, audience: AUDIENCE, ttlSeconds: TOKEN_TTL_SECONDS });
const tokenFor = async (customerId: string, role: 'CUSTOMER' | 'ADMIN') => (await tokens.issue({ customerId, role })).accessToken;

const sql = new pg.Client({ connectionString: db.url });
await sql.connect();
const adminId = (await sql.query<{ id: string }>('select id from customers where email = $1', [ADMIN_EMAIL])).rows[0]!.id;
const adminToken = await tokenFor(adminId, 'ADMIN');
const s1Rows = (await sql.query<{ id: string; customer_id: string }>(`select id, customer_id from orders where idempotency_key like 'bench-seed-%' order by random() limit 500`)).rows;
const s1Samples: { id: string; token: string }[] = [];
const customerTokens = new Map<string, string>();
for (const row of s1Rows) {
  if (!customerTokens.has(row.customer_id)) customerTokens.set(row.customer_id, await tokenFor(row.customer_id, 'CUSTOMER'));
  s1Samples.push({ id: globalId('Order', row.id), token: customerTokens.get(row.customer_id)! });
}
// Cursors of seeded orders with at least 50 older ones, so every page is full.
const s2Cursors = (
  await sql.query<{ id: string; created_at: Date }>(
    `select id, created_at from (select id, created_at, row_number() over (order by created_at, id) as n from orders where idempotency_key like 'bench-seed-%') o
      where n > 60 order by random() limit 200`,
  )
).rows.map((row) => encodeCursor(row.created_at, row.id));
const s3Customers: string[] = [];
for (const row of (await sql.query<{ id: string }>(`select id from customers where role = 'CUSTOMER' order by random() limit 200`)).rows) s3Customers.push(await tokenFor(row.id, 'CUSTOMER'));
const products = (await sql.query<{ id: string; price_minor: string }>('select id, price_minor from catalog_products order by id')).rows;
await sql.end();

let s3Counter = 0;
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
/** Variables and token of one request of `shape`; `tag` keeps S3 idempotency keys distinct per contestant. */
function nextRequest(shape: ShapeName, tag: string): Request {
  const headers = (token: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });
  if (shape === 'S1') {
    const sample = pick(s1Samples);
    return { headers: headers(sample.token), body: JSON.stringify({ query: DOCUMENTS.S1, variables: { id: sample.id } }) };
  }
  if (shape === 'S2') return { headers: headers(adminToken), body: JSON.stringify({ query: DOCUMENTS.S2, variables: { after: pick(s2Cursors) } }) };
  return s3Request(pick(s3Customers), s3Lines(), `${S3_KEY_PREFIX}${tag}-${(s3Counter += 1)}-${randomUUID()}`);
}
/** Three distinct products in id order (as a cart would list them; no contestant can deadlock on stock), quantities 1–3. */
function s3Lines(): { productId: string; quantity: number }[] {
  const chosen = new Set<number>();
  while (chosen.size < 3) chosen.add(Math.floor(Math.random() * products.length));
  const lines = [...chosen].sort((a, b) => a - b).map((i) => ({ index: i, quantity: 1 + Math.floor(Math.random() * 3) }));
  const total = lines.reduce((sum, line) => sum + Number(products[line.index]!.price_minor) * line.quantity, 0);
  if (total > DECLINE_ABOVE_MINOR) throw new Error('an S3 order would be declined; the bench catalog is priced so that none is');
  return lines.map((line) => ({ productId: globalId('Product', products[line.index]!.id), quantity: line.quantity }));
}
const s3Request = (token: string, lines: { productId: string; quantity: number }[], key: string): Request => ({
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  body: JSON.stringify({ query: DOCUMENTS.S3, variables: { input: { idempotencyKey: key, lines } } }),
});

// ---------------------------------------------------------------------------------------------
// Contestants.
// O exports its spans as in production (docker/compose.yaml), to an endpoint that discards them.
const sink = await startOtlpSink();

const extraOEnv = Object.fromEntries(
  (env.BENCH_O_ENV ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
/**
 * O in its production configuration (docker/compose.yaml): NODE_ENV=production, LOG_LEVEL info, spans
 * exported over OTLP/HTTP, rate limits on. Deviations, each because the bench would otherwise measure
 * something else: the rate limits are raised so they never refuse (they still count every request);
 * the simulated payment provider answers at once (its default 150 ms sleep is not gateway work, and
 * R and A decide the charge in process too); tokens live an hour so they outlast the run.
 */
const oEnv = (url: string, extra: Record<string, string> = {}): Record<string, string> => ({
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  DATABASE_URL: url,
  DB_POOL_MAX: String(poolMax),
  JWT_PRIVATE_KEY: privatePem,
  JWT_TTL_SECONDS: String(TOKEN_TTL_SECONDS),
  OTEL_SERVICE_NAME: 'ordergraph',
  OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
  RATE_LIMIT_COST: '999999999/60',
  RATE_LIMIT_PLACE_ORDER: '999999999/60',
  PAYMENT_SIMULATED_LATENCY_MS: '0',
  DATA_DIR: '.data/bench',
  ...extraOEnv,
  ...extra,
});
const plainEnv = (url: string): Record<string, string> => ({ NODE_ENV: 'production', DATABASE_URL: url, POOL_MAX: String(poolMax), JWT_PUBLIC_KEY: publicPem, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });

const answers = async (origin: string) => (await fetch(`${origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })).status < 500;
const healthy = async (origin: string) => (await fetch(`${origin}/health`)).ok;

async function startContestant(who: Contestant, url: string, extra: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freePort();
  if (who === 'R') return startServer('R', ['bench/contestants/raw.ts'], plainEnv(url), port, answers);
  if (who === 'A') return startServer('A', ['bench/contestants/apollo.ts'], plainEnv(url), port, answers);
  // As `npm start` and the Dockerfile run it: the OpenTelemetry SDK preloaded, then main.ts.
  const profile = env.BENCH_CPU_PROFILE && !extra.COUNTING ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROFILE}`] : [];
  const { COUNTING: _, ...rest } = extra;
  return startServer('O', [...profile, '--import', './src/platform/telemetry/register.ts', 'src/main.ts'], oEnv(url, rest), port, healthy, env.BENCH_O_ROOT ? { cwd: env.BENCH_O_ROOT } : {});
}

async function post(server: ServerProcess, request: Request): Promise<{ status: number; text: string }> {
  const response = await fetch(server.url, { method: 'POST', headers: request.headers, body: request.body });
  return { status: response.status, text: await response.text() };
}

/** Removes the excluded paths (dot-separated, through objects) from a parsed response. */
function without(value: unknown, paths: readonly string[]): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  for (const path of paths) {
    const keys = path.split('.');
    let node: unknown = copy;
    for (const key of keys.slice(0, -1)) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    if (node && typeof node === 'object') delete (node as Record<string, unknown>)[keys.at(-1)!];
  }
  return copy;
}

/** The first differing path of two JSON values, for the report. */
function firstDifference(a: unknown, b: unknown, path = ''): string {
  if (isDeepStrictEqual(a, b)) return '';
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const diff = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
      if (diff) return diff;
    }
  }
  return `${path}: ${JSON.stringify(a)?.slice(0, 120)} ≠ ${JSON.stringify(b)?.slice(0, 120)}`;
}

// ---------------------------------------------------------------------------------------------
// Load.
type Run = BenchRun;

const successMarker: Record<ShapeName, string> = { S1: '{"data":{"order":{', S2: '{"data":{"orders":{', S3: '"__typename":"PlaceOrderSuccess"' };

async function load(server: ServerProcess, who: Contestant, shape: ShapeName, seconds: number): Promise<Omit<Run, 'round' | 'cpuMsPerRequest' | 'pgCpuMsPerRequest'>> {
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const marker = successMarker[shape];
  const began = performance.now();
  const result = await autocannon({
    url: server.url,
    connections: CONCURRENCY,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => ({ ...request, ...nextRequest(shape, who) }),
        onResponse: (status, body) => {
          if (status === 200 && body.includes(marker) && !body.includes('"errors"')) ok += 1;
          else {
            errors += 1;
            firstError ??= `${status} ${body.slice(0, 300)}`;
          }
        },
      },
    ],
  });
  const elapsed = (performance.now() - began) / 1_000;
  errors += result.errors + result.timeouts;
  if (result.errors + result.timeouts > 0) firstError ??= `${result.errors} socket errors, ${result.timeouts} timeouts`;
  return { contestant: who, shape, requests: ok, seconds: elapsed, rps: ok / elapsed, errors, firstError, p50: result.latency.p50, p99: result.latency.p99 };
}

// ---------------------------------------------------------------------------------------------
// Run.
const servers = {} as Record<Contestant, ServerProcess>;
const report: Report = {
  date: new Date().toISOString(),
  machine: machine(),
  database: { embedded: db.embedded, counts: db.counts, poolMax, seededSeconds: db.seededSeconds },
  settings: { oRoot: env.BENCH_O_ROOT ?? null, rounds: ROUNDS, roundSeconds: ROUND_SECONDS, warmupSeconds: WARMUP_SECONDS, concurrency: CONCURRENCY, checkSamples: CHECK_SAMPLES, countRequests: COUNT_REQUESTS, shapes: SHAPES, contestants: CONTESTANTS, oEnvOverrides: extraOEnv },
  checks: [],
  statements: [],
  runs: [],
  loadAverage: { start: loadAverage(), end: [] },
  durationSeconds: 0,
  otlpExports: 0,
};
try {
  for (const who of CONTESTANTS) servers[who] = await startContestant(who, db.url);
  log(`contestants: ${CONTESTANTS.map((who) => `${who} pid ${servers[who].pid}`).join(', ')}`);

  // 1. Equality with R on sampled variables (and zero errors).
  for (const shape of SHAPES) {
    for (let i = 0; i < CHECK_SAMPLES; i += 1) {
      // S3: the same customer and lines for every contestant, each with its own idempotency key.
      const base = nextRequest(shape, 'check');
      const s3Body = shape === 'S3' ? (JSON.parse(base.body) as { variables: { input: { lines: { productId: string; quantity: number }[] } } }) : undefined;
      const requestFor = (who: Contestant): Request =>
        s3Body ? s3Request(base.headers.authorization!.slice(7), s3Body.variables.input.lines, `${S3_KEY_PREFIX}check-${who}-${randomUUID()}`) : base;
      const reference = CONTESTANTS.includes('R') ? await post(servers.R, requestFor('R')) : undefined;
      for (const who of CONTESTANTS) {
        if (who === 'R') continue;
        const answer = await post(servers[who], requestFor(who));
        const parsed = JSON.parse(answer.text) as Payload;
        let equal = answer.status === 200 && !parsed.errors;
        let difference = equal ? '' : `status ${answer.status}: ${answer.text.slice(0, 300)}`;
        let sameBytes = false;
        if (equal && reference) {
          const expected = JSON.parse(reference.text) as Payload;
          const a = without(parsed, EXCLUDED_FIELDS[shape]);
          const b = without(expected, EXCLUDED_FIELDS[shape]);
          equal = isDeepStrictEqual(a, b) && !expected.errors;
          difference = equal ? '' : firstDifference(a, b);
          sameBytes = JSON.stringify(a) === JSON.stringify(b);
        }
        report.checks.push({ shape, contestant: who, sample: i, equal, sameBytes, difference, bytes: answer.text.length });
        if (!equal) log(`  check ${shape} ${who} #${i}: DIFFERS ${difference}`);
      }
    }
    const failed = report.checks.filter((c) => c.shape === shape && !c.equal).length;
    log(`checked ${shape}: ${CHECK_SAMPLES} samples × ${CONTESTANTS.length - 1} contestants against R, ${failed} differ`);
  }

  // 2. SQL statements per request, at the wire, on separate instances, one request at a time.
  {
    const target = new URL(db.url);
    const counter = await startStatementCounter({ host: target.hostname, port: Number(target.port || 5432) });
    const proxied = new URL(db.url);
    proxied.port = String(counter.port);
    for (const who of CONTESTANTS) {
      // Background polls idle during the count (the relay still runs when a commit nudges it).
      const server = await startContestant(who, proxied.toString(), { COUNTING: '1', OUTBOX_POLL_INTERVAL_MS: '60000', RECONCILER_INTERVAL_MS: '3600000' });
      try {
        for (const shape of SHAPES) {
          const quiet = async () => {
            // Wait until nothing reached the database for 250 ms (bounded: 5 s).
            const until = performance.now() + 5_000;
            for (;;) {
              const last = counter.statements.at(-1)?.at ?? 0;
              if (performance.now() - last > 250 || performance.now() > until) return;
              await new Promise((resolve) => setTimeout(resolve, 50));
            }
          };
          for (let i = 0; i < 3; i += 1) await post(server, nextRequest(shape, 'count'));
          await quiet();
          const during: SeenStatement[][] = [];
          const after: SeenStatement[][] = [];
          for (let i = 0; i < COUNT_REQUESTS; i += 1) {
            const from = counter.statements.length;
            const answer = await post(server, nextRequest(shape, 'count'));
            if (!answer.text.includes(successMarker[shape])) throw new Error(`${who} ${shape} failed while counting: ${answer.text.slice(0, 300)}`);
            const mid = counter.statements.length;
            await quiet();
            during.push(counter.statements.slice(from, mid));
            after.push(counter.statements.slice(mid));
          }
          const mean = (lists: SeenStatement[][]) => lists.reduce((n, l) => n + l.length, 0) / lists.length;
          const texts = new Map<string, number>();
          for (const statement of during.flat()) {
            // MikroORM inlines values: fold literals so that the same statement is listed once.
            const key = statement.sql
              .replace(/\s+/g, ' ')
              .replace(/'(?:[^']|'')*'/g, '?')
              .replace(/\b\d+(\.\d+)?\b/g, '?')
              .replace(/\((\?, )+\?\)/g, '(?…)')
              .slice(0, 160);
            texts.set(key, (texts.get(key) ?? 0) + 1);
          }
          report.statements.push({
            shape,
            contestant: who,
            perRequest: mean(during),
            min: Math.min(...during.map((l) => l.length)),
            max: Math.max(...during.map((l) => l.length)),
            afterResponse: mean(after),
            transactionControl: mean(during.map((l) => l.filter((s) => /^\s*(begin|commit|rollback|savepoint|release)/i.test(s.sql)))),
            // O's outbox relay claims and marks rows while the request is still running (it is woken by the commit).
            relay: mean([...during, ...after].map((l) => l.filter((s) => /from outbox o where o\.published_at is null|update outbox set published_at/i.test(s.sql)))),
            distinct: [...texts].map(([text, count]) => ({ text, perRequest: count / during.length })),
          });
          log(`statements ${who} ${shape}: ${mean(during).toFixed(1)} per request (+${mean(after).toFixed(1)} after the response)`);
        }
      } finally {
        await server.stop();
      }
    }
    await counter.close();
  }

  // 3. Throughput rounds.
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const shape of SHAPES) {
      // Rotate the order per round so that drift over time does not favour one contestant.
      const order = CONTESTANTS.map((_, i) => CONTESTANTS[(i + round - 1) % CONTESTANTS.length]!);
      const line: string[] = [];
      for (const who of order) {
        const server = servers[who];
        await load(server, who, shape, WARMUP_SECONDS);
        const cpu0 = cpuSeconds(server.pid);
        const pg0 = postgresCpuSnapshot();
        const run = await load(server, who, shape, ROUND_SECONDS);
        const cpu = cpuSeconds(server.pid) - cpu0;
        const pgCpu = postgresCpuDelta(pg0, postgresCpuSnapshot());
        report.runs.push({ ...run, round, cpuMsPerRequest: (cpu * 1_000) / Math.max(1, run.requests), pgCpuMsPerRequest: (pgCpu * 1_000) / Math.max(1, run.requests) });
        line.push(`${who} ${run.rps.toFixed(0)}/s${run.errors ? ` (${run.errors} errors: ${run.firstError})` : ''}`);
      }
      log(`round ${round} ${shape}: ${line.join(' | ')}`);
    }
  }
} finally {
  for (const server of Object.values(servers)) await server.stop().catch(() => undefined);
  await sink.close();
  await db.close();
}
report.loadAverage.end = loadAverage();
report.durationSeconds = (Date.now() - started) / 1_000;
report.otlpExports = sink.requests();

const raw = new URL(`./results/raw/requests-${report.date.replaceAll(':', '-')}.json`, import.meta.url);
await mkdir(new URL('./results/raw/', import.meta.url), { recursive: true });
await writeFile(raw, `${JSON.stringify(report, null, 2)}\n`);
const summary = await writeReport(report, { rawFile: raw.pathname });
log(summary);
log(`report: bench/RESULTS.md, chart: bench/results/requests.svg, raw: ${raw.pathname} (${report.durationSeconds.toFixed(0)} s)`);

// 4. Subscriptions (the last section of the report), unless BENCH_SUBSCRIPTIONS=false.
if (env.BENCH_SUBSCRIPTIONS !== 'false') {
  log('subscriptions: bench/subscriptions.ts (about 5 minutes)');
  await runSubscriptionBench({ log });
}
