// Request benchmarks (`npm run bench`, issue 11): Ordergraph against the practical limit and against
// the servers users would pick instead, on the same PostgreSQL tables, data, pool and machine:
//   R      node:http + pg, one hand-written SQL statement per shape (bench/contestants/raw.ts)
//   O      Ordergraph as shipped (production configuration, spans exported, metrics, access log, rate
//          limits) with the response cache off (RESPONSE_CACHE=false): the uncached path the peers run
//   Oc     O with the response cache on (its default), every variant answered once before each
//          round (S3's orders invalidate the admin pages of S2): S1/S2 hits (issue 15)
//   Obare  the same build with tracing, metrics, the access log, rate limits and the response cache off
//   A+     Apollo Server 5 + DataLoader per type (bench/contestants/apollo-dataloader.ts)
//   M      Fastify + Mercurius with graphql-jit and its loaders (bench/contestants/mercurius.ts)
//   P      PostGraphile 5 (bench/contestants/postgraphile.ts; skipped, and said so, when absent)
//   A      naive Apollo Server, per-field queries: the N+1 reference (bench/contestants/apollo.ts)
// Shapes (bench/lib/shapes.ts): S1 order(id) scalars; S2 orders(first: 50, after: <random cursor>) with
// payment { status }, customer and lines → product; S3 placeOrder with 3 lines (R, O, O bare, A only).
//
// Method: every contestant is its own process (CPU from /proc/<pid>/stat). Every contestant verifies
// bearer tokens behind the same verified-token cache (bench/lib/jwt.ts; O's own is the same design).
// 1. Before any figure counts, every contestant's answers to sampled requests must deep-equal R's.
// 2. SQL statements per request are counted at the wire (bench/lib/pg-counter.ts) on separate instances.
// 3. Throughput: interleaved rounds; in each, every shape is run by each contestant in turn (order
//    rotated per round), each a warm-up then a measured wrk run (bench/lib/wrk.ts: Debian's wrk, Lua
//    script with pre-generated request variants, one at random per request; status and body of every
//    response checked). The generator's CPU is read for every run; a run where wrk used ≥ 90 % of a core
//    per thread is invalid (generator-bound) and does not count, loudly, in the report. Ratios are
//    taken per round and reported as median (min–max).
// 3b. The response cache's invalidation cost (issue 15, when Oc runs): bench/lib/cache-invalidation.ts.
// 4. Optional ablation (BENCH_ABLATION=true): O with one production feature off at a time, S1,
//    interleaved with O as shipped.
// 5. Optional profiles (BENCH_CPU_PROFILE=dir): fresh O and O bare processes profiled through the
//    inspector over one measured S1 and S2 run each, summarised by package and by our own function.
// Then bench/RESULTS.md, bench/results/requests.svg and bench/results/history.json are written, and the
// subscription benchmark runs (bench/subscriptions.ts) unless BENCH_SUBSCRIPTIONS=false.
//
// Knobs (env):
//   BENCH_ROUNDS (6), BENCH_ROUND_SECONDS (5), BENCH_WARMUP_SECONDS (2): rounds and seconds per run.
//   BENCH_THREADS (2), BENCH_CONNECTIONS (16; BENCH_CONCURRENCY is read too): wrk's threads and connections.
//   BENCH_GENERATOR_LIMIT (0.9): wrk CPU per thread (share of a core) at which a run is generator-bound.
//   BENCH_CHECK_BODIES (true): wrk checks every body for the success marker and `"errors"` (false: status only).
//   BENCH_VARIANTS (1000): pre-generated request variants per shape (orders, cursors, carts, with tokens).
//   BENCH_POOL_MAX (10): the database pool of every contestant.
//   BENCH_SHAPES (S1,S2,S3), BENCH_CONTESTANTS (R,O,Obare,A+,M,P,A).
//   BENCH_CHECK_SAMPLES (10): sampled requests per shape compared with R; BENCH_COUNT_REQUESTS (10).
//   BENCH_ABLATION (false), BENCH_ABLATION_ROUNDS (= BENCH_ROUNDS), BENCH_ABLATION_FEATURES (all of
//     tracing,sampling,metrics,access-log,rate-limits,armor,csrf,masking,jit), BENCH_ABLATION_EXTRA (more O
//     variants: `id:KEY=VALUE;KEY=VALUE|id2:…`, e.g. a sampling setting).
//   BENCH_CPU_PROFILE (a directory: profiles of O and O bare on S1 and S2 are written there),
//     BENCH_PROFILE_SECONDS (2 × BENCH_ROUND_SECONDS).
//   BENCH_O_ENV (extra KEY=VALUE,… for O, O bare and the ablation variants), BENCH_O_ROOT (run O from
//     another checkout, e.g. a `git worktree` of an earlier commit, for before/after figures).
//   BENCH_BASE_ROOT (another checkout: adds contestant Obase, O as shipped from there, measured side by
//     side with O in the same interleaved rounds; the before/after ratio O/Obase is then reported).
//   BENCH_ADMIN_URL (a database where CREATE DATABASE may run; default TEST_DATABASE_URL or
//     postgres://postgres@127.0.0.1:5432/postgres), BENCH_DATABASE (ordergraph_bench), BENCH_RESEED (false).
//   BENCH_CACHE_INVALIDATION_SAMPLES (200): changes per kind in the response cache's invalidation
//     measurement (two O cached processes with BENCH_REDIS_URL, default redis://127.0.0.1:6379; 0: skip).
//   BENCH_HISTORY (true): append this run to bench/results/history.json (false for trial runs).
//   BENCH_SUBSCRIPTIONS (true): then run the subscription benchmark with its own BENCH_SUBS_* knobs.
// Loopback only; every loop is bounded by rounds × durations. Not part of `npm test`.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { JoseTokenService } from '../src/modules/customers/module.ts';
import { freePort } from '../test/support/net.ts';
import { ABLATION_VARIANTS, BARE_ENV, CONTESTANTS, CONTESTANT_IDS, type AblationVariant, type ContestantId } from './lib/contestants.ts';
import { analyseProfile } from './lib/cpu-profile.ts';
import { startInspectorProfile } from './lib/inspector-profile.ts';
import { startOtlpSink } from './lib/otlp-sink.ts';
import { startStatementCounter, type SeenStatement } from './lib/pg-counter.ts';
import { ROOT, cpuSeconds, loadAverage, machine, postgresCpuDelta, postgresCpuSnapshot, startServer, type ServerProcess } from './lib/proc.ts';
import { writeReport, type BenchRun, type Report } from './lib/report.ts';
import { DECLINE_ABOVE_MINOR, DOCUMENTS, EXCLUDED_FIELDS, encodeCursor, globalId, type ShapeName } from './lib/shapes.ts';
import { measureCacheInvalidation } from './lib/cache-invalidation.ts';
import { ensureWrk, generatorSaturated, runWrk, writeWrkScript, type RequestVariant } from './lib/wrk.ts';
import { ADMIN_EMAIL, S3_KEY_PREFIX, ensureBenchDatabase } from './seed.ts';
import { runSubscriptionBench } from './subscriptions.ts';
import { stopChildrenOnSignals } from './lib/stop-children-on-signal.ts';

// SIGINT/SIGTERM (to this process or to `npm run bench`) also stop the servers it started.
stopChildrenOnSignals();

const env = process.env;
const number = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
};
const list = (name: string, fallback: string) => (env[name] ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
const ROUNDS = number('BENCH_ROUNDS', 6);
const ROUND_SECONDS = number('BENCH_ROUND_SECONDS', 5);
const WARMUP_SECONDS = number('BENCH_WARMUP_SECONDS', 2);
const THREADS = number('BENCH_THREADS', 2);
const CONNECTIONS = number('BENCH_CONNECTIONS', Number(env.BENCH_CONCURRENCY ?? 16));
const GENERATOR_LIMIT = number('BENCH_GENERATOR_LIMIT', 0.9);
const CHECK_BODIES = env.BENCH_CHECK_BODIES !== 'false';
const VARIANTS = number('BENCH_VARIANTS', 1000);
const POOL_MAX = number('BENCH_POOL_MAX', 10);
const CHECK_SAMPLES = number('BENCH_CHECK_SAMPLES', 10);
const COUNT_REQUESTS = number('BENCH_COUNT_REQUESTS', 10);
const SHAPES = list('BENCH_SHAPES', 'S1,S2,S3') as ShapeName[];
const REQUESTED = list('BENCH_CONTESTANTS', env.BENCH_BASE_ROOT ? 'R,O,Oc,Obase,Obare,A+,M,P,A' : 'R,O,Oc,Obare,A+,M,P,A') as ContestantId[];
const ABLATION = env.BENCH_ABLATION === 'true';
const ABLATION_ROUNDS = number('BENCH_ABLATION_ROUNDS', ROUNDS);
const PROFILE_DIR = env.BENCH_CPU_PROFILE;
const PROFILE_SECONDS = number('BENCH_PROFILE_SECONDS', 2 * ROUND_SECONDS);
const INVALIDATION_SAMPLES = number('BENCH_CACHE_INVALIDATION_SAMPLES', 200);
const REDIS_URL = env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_URL = env.BENCH_ADMIN_URL ?? env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ISSUER = 'ordergraph';
const AUDIENCE = 'ordergraph-api';
const TOKEN_TTL_SECONDS = 3_600;
/** Stands for the idempotency key in S3 bodies; each request gets a fresh key in its place. */
const KEY_PLACEHOLDER = '@@IDEMPOTENCY_KEY@@';

for (const shape of SHAPES) if (!(shape in DOCUMENTS)) throw new Error(`BENCH_SHAPES: unknown shape ${shape}`);
for (const who of REQUESTED) if (!CONTESTANT_IDS.includes(who)) throw new Error(`BENCH_CONTESTANTS: unknown contestant ${who} (known: ${CONTESTANT_IDS.join(', ')})`);

type Request = { headers: Record<string, string>; body: string };
type Payload = { data?: unknown; errors?: unknown };

const log = (line: string) => console.log(line);
const started = Date.now();
const wrkVersion = ensureWrk(log);

/** Short commit of a checkout, `+dirty` when tracked files differ from it (read-only git). */
function commitOf(root: string): string {
  const head = spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) return 'unknown';
  const dirty = spawnSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? '+dirty' : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Database, keys, request variants.
const db = await ensureBenchDatabase({ adminUrl: ADMIN_URL, name: env.BENCH_DATABASE ?? 'ordergraph_bench', poolMax: POOL_MAX, reseed: env.BENCH_RESEED === 'true', log });
const poolMax = db.embedded ? 1 : POOL_MAX;
log(`database: ${db.embedded ? 'embedded PGlite' : new URL(db.url).host + new URL(db.url).pathname}, ${JSON.stringify(db.counts)}`);

const { privateKey: privatePem } = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const publicPem = createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString();
// Ordergraph's own token service mints the tokens, so every contestant checks real ones.
const tokenService = await JoseTokenService.fromPkcs8(privatePem, { issuer: ISSUER, audience: AUDIENCE, ttlSeconds: TOKEN_TTL_SECONDS });
const tokens = new Map<string, Promise<string>>();
const tokenFor = (customerId: string, role: 'CUSTOMER' | 'ADMIN') => {
  if (!tokens.has(customerId)) tokens.set(customerId, tokenService.issue({ customerId, role }).then((t) => t.accessToken));
  return tokens.get(customerId)!;
};

const sql = new pg.Client({ connectionString: db.url });
await sql.connect();
const adminId = (await sql.query<{ id: string }>('select id from customers where email = $1', [ADMIN_EMAIL])).rows[0]!.id;
const adminToken = await tokenFor(adminId, 'ADMIN');
const variants = {} as Record<ShapeName, RequestVariant[]>;
variants.S1 = await Promise.all(
  (await sql.query<{ id: string; customer_id: string }>(`select id, customer_id from orders where idempotency_key like 'bench-seed-%' order by random() limit $1`, [VARIANTS])).rows.map(async (row) => ({
    token: await tokenFor(row.customer_id, 'CUSTOMER'),
    body: JSON.stringify({ query: DOCUMENTS.S1, variables: { id: globalId('Order', row.id) } }),
  })),
);
// Cursors of seeded orders with at least 50 older ones, so every page is full; one drawn per request.
variants.S2 = (
  await sql.query<{ id: string; created_at: Date }>(
    `select id, created_at from (select id, created_at, row_number() over (order by created_at, id) as n from orders where idempotency_key like 'bench-seed-%') o
      where n > 60 order by random() limit $1`,
    [VARIANTS],
  )
).rows.map((row) => ({ token: adminToken, body: JSON.stringify({ query: DOCUMENTS.S2, variables: { after: encodeCursor(row.created_at, row.id) } }) }));
const products = (await sql.query<{ id: string; price_minor: string }>('select id, price_minor from catalog_products order by id')).rows;
/** Three distinct products in id order (as a cart would list them; no contestant can deadlock on stock), quantities 1–3. */
function s3Lines(): { productId: string; quantity: number }[] {
  const chosen = new Set<number>();
  while (chosen.size < 3) chosen.add(Math.floor(Math.random() * products.length));
  const lines = [...chosen].sort((a, b) => a - b).map((i) => ({ index: i, quantity: 1 + Math.floor(Math.random() * 3) }));
  const total = lines.reduce((sum, line) => sum + Number(products[line.index]!.price_minor) * line.quantity, 0);
  if (total > DECLINE_ABOVE_MINOR) throw new Error('an S3 order would be declined; the bench catalog is priced so that none is');
  return lines.map((line) => ({ productId: globalId('Product', products[line.index]!.id), quantity: line.quantity }));
}
variants.S3 = await Promise.all(
  (await sql.query<{ id: string }>(`select id from customers where role = 'CUSTOMER' order by random() limit $1`, [VARIANTS])).rows.map(async (row) => ({
    token: await tokenFor(row.id, 'CUSTOMER'),
    body: JSON.stringify({ query: DOCUMENTS.S3, variables: { input: { idempotencyKey: KEY_PLACEHOLDER, lines: s3Lines() } } }),
  })),
);
await sql.end();
log(`request variants: ${SHAPES.map((shape) => `${shape} ${variants[shape].length}`).join(', ')}; ${tokens.size} distinct tokens`);

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const asRequest = (variant: RequestVariant, key?: string): Request => ({
  headers: { 'content-type': 'application/json', authorization: `Bearer ${variant.token}` },
  body: key === undefined ? variant.body : variant.body.replace(KEY_PLACEHOLDER, key),
});
/** A request of `shape` with a random variant (and for S3 a fresh idempotency key tagged `tag`). */
const nextRequest = (shape: ShapeName, tag: string): Request => asRequest(pick(variants[shape]), shape === 'S3' ? `${S3_KEY_PREFIX}${tag}-${randomUUID()}` : undefined);

const scriptDir = await mkdtemp(join(tmpdir(), 'ordergraph-bench-wrk-'));
const successMarker: Record<ShapeName, string> = { S1: '{"data":{"order":{', S2: '{"data":{"orders":{', S3: '"__typename":"PlaceOrderSuccess"' };
const scripts = {} as Record<ShapeName, string>;
for (const shape of SHAPES) {
  scripts[shape] = await writeWrkScript(scriptDir, shape, { variants: variants[shape], successMarker: successMarker[shape], ...(shape === 'S3' ? { uniquePlaceholder: KEY_PLACEHOLDER } : {}) }, { checkBodies: CHECK_BODIES });
}

// ---------------------------------------------------------------------------------------------
// Contestants.
// O exports its spans as in production (docker/compose.yaml), to an endpoint that discards them.
const sink = await startOtlpSink();
const live = new Set<ServerProcess>();
// Servers die with the benchmark, however it ends.
process.once('exit', () => {
  for (const server of live) server.child.kill('SIGKILL');
});

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
  // Budgets no load generator reaches: the benchmark measures the gateway, not its refusals.
  COST_BUDGET_ANONYMOUS: '999999999',
  COST_BUDGET_BASIC: '999999999',
  COST_BUDGET_PREMIUM: '999999999',
  COST_BUDGET_ENTERPRISE: '999999999',
  COST_BUDGET_ADMIN: '999999999',
  // The same for an O before the tier-aware budgets (BENCH_BASE_ROOT, BENCH_O_ROOT): its flat cost limit.
  RATE_LIMIT_COST: '999999999/60',
  RATE_LIMIT_PLACE_ORDER: '999999999/60',
  PAYMENT_SIMULATED_LATENCY_MS: '0',
  DATA_DIR: '.data/bench',
  ...extraOEnv,
  ...extra,
});
const peerEnv = (url: string): Record<string, string> => ({ NODE_ENV: 'production', DATABASE_URL: url, POOL_MAX: String(poolMax), JWT_PUBLIC_KEY: publicPem, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });

const answers = async (origin: string) => (await fetch(`${origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })).status < 500;
const healthy = async (origin: string) => (await fetch(`${origin}/health`)).ok;

/** Starts Ordergraph as `npm start` and the Dockerfile run it (the OpenTelemetry SDK preloaded, then main.ts), with `extra` env. */
async function startO(name: string, url: string, extra: Record<string, string>, options: { inspect?: boolean; root?: string | undefined } = {}): Promise<ServerProcess> {
  const port = await freePort();
  const args = [...(options.inspect ? ['--inspect=127.0.0.1:0'] : []), '--import', './src/platform/telemetry/register.ts', 'src/main.ts'];
  const root = options.root ?? env.BENCH_O_ROOT;
  const server = await startServer(name, args, oEnv(url, extra), port, healthy, root ? { cwd: root } : {});
  live.add(server);
  return server;
}

/** O's and O before's switch: the response cache off (an earlier checkout ignores it). */
const UNCACHED: Record<string, string> = { RESPONSE_CACHE: 'false' };
/**
 * O cached: the cache on (its default), entries living through the whole run (the default TTL is
 * 60 s) and room for every variant, so the rounds measure the hit path; the hit ratio is reported.
 */
const CACHED: Record<string, string> = { RESPONSE_CACHE_TTL_MS: '86400000', RESPONSE_CACHE_MAX_ENTRIES: '100000' };

/** Starts a contestant on `url`; `counting` quiets O's background polls (the statement count). */
async function startContestant(who: ContestantId, url: string, options: { counting?: boolean; inspect?: boolean } = {}): Promise<ServerProcess> {
  const quiet: Record<string, string> = options.counting ? { ORDER_LOG_POLL_MS: '60000', RECONCILER_INTERVAL_MS: '3600000' } : {};
  // O runs the uncached path (as the peers do); Oc is the same build with the response cache on, its default.
  if (who === 'O') return startO(who, url, { ...UNCACHED, ...quiet }, options);
  if (who === 'Oc') return startO(who, url, { ...CACHED, ...quiet }, options);
  if (who === 'Obase') return startO(who, url, { ...UNCACHED, ...quiet }, { ...options, root: env.BENCH_BASE_ROOT });
  if (who === 'Obare') return startO(who, url, { ...BARE_ENV, ...quiet }, options);
  const port = await freePort();
  const server = await startServer(who, [CONTESTANTS[who].script!], peerEnv(url), port, answers);
  live.add(server);
  return server;
}

async function stopServer(server: ServerProcess): Promise<void> {
  await server.stop().catch(() => undefined);
  live.delete(server);
}

async function post(server: ServerProcess, request: Request): Promise<{ status: number; text: string }> {
  const response = await fetch(server.url, { method: 'POST', headers: request.headers, body: request.body });
  return { status: response.status, text: await response.text() };
}

/**
 * Removes the excluded paths (dot-separated, through objects) from a parsed response, and its
 * `extensions` (O's `cost` and `responseCache`: what a server may add beside the answer).
 */
function without(value: unknown, paths: readonly string[]): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  delete copy['extensions'];
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

/** One wrk run against `server`, with the server's, PostgreSQL's and the generator's CPU over it. */
async function measure(server: ServerProcess, who: string, shape: ShapeName, round: number, seconds: number): Promise<BenchRun> {
  const keyPrefix = shape === 'S3' ? `${S3_KEY_PREFIX}${who}-${randomBytes(4).toString('hex')}-` : undefined;
  const cpu0 = cpuSeconds(server.pid);
  const pg0 = postgresCpuSnapshot();
  const result = await runWrk({ url: server.url, script: scripts[shape], seconds, threads: THREADS, connections: CONNECTIONS, ...(keyPrefix ? { keyPrefix } : {}) });
  const cpu = cpuSeconds(server.pid) - cpu0;
  const pgCpu = postgresCpuDelta(pg0, postgresCpuSnapshot());
  const socket = result.socketErrors.connect + result.socketErrors.read + result.socketErrors.write + result.socketErrors.timeout;
  const generator = generatorSaturated(result, GENERATOR_LIMIT);
  const good = Math.max(1, result.good);
  return {
    contestant: who,
    shape,
    round,
    responses: result.responses,
    good: result.good,
    errors: result.non2xx + result.badBodies + socket,
    firstError: result.firstError ?? (socket ? `socket errors ${JSON.stringify(result.socketErrors)}` : undefined),
    seconds: result.seconds,
    rps: result.good / result.seconds,
    cacheHits: result.cacheHits,
    latency: result.latencyMs,
    cpuMsPerRequest: (cpu * 1_000) / good,
    serverCores: cpu / result.seconds,
    pgCpuMsPerRequest: (pgCpu * 1_000) / good,
    generator: { cpuSeconds: result.generatorCpuSeconds, share: generator.share, saturated: generator.saturated, usPerRequest: (result.generatorCpuSeconds * 1e6) / Math.max(1, result.responses) },
  };
}

const describeRun = (run: BenchRun) =>
  `${run.contestant} ${run.rps.toFixed(0)}/s (wrk ${(100 * run.generator.share).toFixed(0)} %${run.generator.saturated ? ' SATURATED' : ''})${run.errors ? ` (${run.errors} errors: ${run.firstError})` : ''}`;

/** Connections PostgreSQL still accepts: max_connections − superuser reserve − those open now. */
async function connectionBudget(): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const row = (
      await client.query<{ max: string; reserved: string; used: string }>(
        "select current_setting('max_connections') as max, current_setting('superuser_reserved_connections') as reserved, (select count(*) from pg_stat_activity) as used",
      )
    ).rows[0]!;
    return Number(row.max) - Number(row.reserved) - Number(row.used);
  } finally {
    await client.end();
  }
}

/** Whether a TCP connection to the URL's host and port opens within 1 s. */
function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379), timeout: 1_000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/** Sends every variant of `shape` once (CONNECTIONS at a time), so that O cached holds them all. */
async function warmCache(server: ServerProcess, shape: ShapeName): Promise<void> {
  const started = performance.now();
  const queue = [...variants[shape]];
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      for (let variant = queue.pop(); variant; variant = queue.pop()) await post(server, asRequest(variant));
    }),
  );
  log(`${server.name} ${shape}: cache warmed with ${variants[shape].length} variants in ${((performance.now() - started) / 1_000).toFixed(1)} s`);
}

/** The order of `items` rotated by `by`, so that drift over time favours no one. */
const rotate = <T>(items: readonly T[], by: number): T[] => items.map((_, i) => items[(i + by) % items.length]!);

// ---------------------------------------------------------------------------------------------
// Run.
const missing: Report['settings']['missing'] = [];
const contestants: ContestantId[] = [];
for (const who of REQUESTED) {
  const script = CONTESTANTS[who].script;
  if (script && !existsSync(join(ROOT, script))) missing.push({ contestant: who, why: `${script} does not exist` });
  else contestants.push(who);
}
const supports = (who: ContestantId, shape: ShapeName) => CONTESTANTS[who].shapes.includes(shape);
const servers = {} as Record<ContestantId, ServerProcess>;
const report: Report = {
  date: new Date().toISOString(),
  commit: { harness: commitOf(ROOT), o: commitOf(env.BENCH_O_ROOT ?? ROOT) },
  machine: { ...machine(), node: process.version },
  wrk: wrkVersion.replace(/ Copyright.*$/, ''),
  database: { embedded: db.embedded, counts: db.counts, poolMax, seededSeconds: db.seededSeconds },
  settings: {
    oRoot: env.BENCH_O_ROOT ?? null,
    rounds: ROUNDS,
    roundSeconds: ROUND_SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    threads: THREADS,
    connections: CONNECTIONS,
    variants: VARIANTS,
    checkSamples: CHECK_SAMPLES,
    countRequests: COUNT_REQUESTS,
    checkBodies: CHECK_BODIES,
    generatorLimit: GENERATOR_LIMIT,
    shapes: SHAPES,
    contestants,
    missing,
    oEnvOverrides: extraOEnv,
  },
  checks: [],
  statements: [],
  runs: [],
  ablation: null,
  cacheInvalidation: null,
  profiles: [],
  loadAverage: { start: loadAverage(), end: [] },
  durationSeconds: 0,
  otlpExports: 0,
};
try {
  for (const who of [...contestants]) {
    try {
      servers[who] = await startContestant(who, db.url);
    } catch (error) {
      // A peer that cannot start is reported as not run; without R or O there is no benchmark.
      if (who === 'R' || who === 'O') throw error;
      log(`${who} did not start: ${String(error).slice(0, 2_000)}`);
      missing.push({ contestant: who, why: `did not start: ${String(error).split('\n')[0]!.slice(0, 200)}` });
      contestants.splice(contestants.indexOf(who), 1);
    }
  }
  log(`contestants: ${contestants.map((who) => `${who} pid ${servers[who].pid}`).join(', ')}${missing.length ? `; not run: ${missing.map((m) => `${m.contestant} (${m.why})`).join(', ')}` : ''}`);

  // O cached answers every variant once before any figure, so that the rounds read its hit path.
  if (servers.Oc) for (const shape of SHAPES.filter((s) => supports('Oc', s))) await warmCache(servers.Oc, shape);

  // 1. Equality with R on sampled requests (and zero errors).
  for (const shape of SHAPES) {
    const answering = contestants.filter((who) => supports(who, shape));
    for (let i = 0; i < CHECK_SAMPLES; i += 1) {
      // S3: the same customer and lines for every contestant, each with its own idempotency key.
      const variant = pick(variants[shape]);
      const requestFor = (who: ContestantId): Request => asRequest(variant, shape === 'S3' ? `${S3_KEY_PREFIX}check-${who}-${randomUUID()}` : undefined);
      const reference = answering.includes('R') ? await post(servers.R, requestFor('R')) : undefined;
      for (const who of answering) {
        if (who === 'R') continue;
        const answer = await post(servers[who], requestFor(who));
        let parsed: Payload;
        try {
          parsed = JSON.parse(answer.text) as Payload;
        } catch {
          parsed = { errors: [`not JSON: ${answer.text.slice(0, 200)}`] };
        }
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
    log(`checked ${shape}: ${CHECK_SAMPLES} samples × ${answering.length - 1} contestants against R, ${failed} differ`);
  }

  // 2. SQL statements per request, at the wire, on separate instances, one request at a time.
  {
    const target = new URL(db.url);
    const counter = await startStatementCounter({ host: target.hostname, port: Number(target.port || 5432) });
    const proxied = new URL(db.url);
    proxied.port = String(counter.port);
    for (const who of contestants) {
      const server = await startContestant(who, proxied.toString(), { counting: true });
      try {
        for (const shape of SHAPES.filter((s) => supports(who, s))) {
          const quiet = async () => {
            // Wait until nothing reached the database for 250 ms (bounded: 5 s).
            const until = performance.now() + 5_000;
            for (;;) {
              const last = counter.statements.at(-1)?.at ?? 0;
              if (performance.now() - last > 250 || performance.now() > until) return;
              await new Promise((resolve) => setTimeout(resolve, 50));
            }
          };
          for (let i = 0; i < 3; i += 1) await post(server, nextRequest(shape, `count-${who}`));
          // O cached: the counted requests repeat ones already answered once, so each is a cache hit.
          const counted = Array.from({ length: COUNT_REQUESTS }, () => nextRequest(shape, `count-${who}`));
          if (who === 'Oc') for (const request of counted) await post(server, request);
          await quiet();
          const during: SeenStatement[][] = [];
          const after: SeenStatement[][] = [];
          for (let i = 0; i < COUNT_REQUESTS; i += 1) {
            const from = counter.statements.length;
            const answer = await post(server, counted[i]!);
            if (who === 'Oc' && !answer.text.includes('"hit":true')) throw new Error(`Oc ${shape}: a repeated request was not a cache hit: ${answer.text.slice(0, 300)}`);
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
            // O's order log reader reads (rung by the commit) and its doorbell notifies while the request is still running.
            relay: mean([...during, ...after].map((l) => l.filter((s) => /pg_snapshot_xmin\(pg_current_snapshot\(\)\)|pg_notify\(/i.test(s.sql)))),
            distinct: [...texts].map(([text, count]) => ({ text, perRequest: count / during.length })),
          });
          log(`statements ${who} ${shape}: ${mean(during).toFixed(1)} per request (+${mean(after).toFixed(1)} after the response)`);
        }
      } finally {
        await stopServer(server);
      }
    }
    await counter.close();
  }

  // 3. Throughput rounds.
  for (let round = 1; round <= ROUNDS; round += 1) {
    // Every order placed since (S3, the statement counts; by any contestant: one database) has made
    // O cached forget every admin orders page (OrderList:admin) on commit, as it must: it answers
    // every variant again before the round, so that the round measures its hit path (hit ratio reported).
    if (servers.Oc) for (const shape of SHAPES.filter((s) => supports('Oc', s))) await warmCache(servers.Oc, shape);
    for (const shape of SHAPES) {
      const line: string[] = [];
      for (const who of rotate(contestants.filter((c) => supports(c, shape)), round - 1)) {
        const warm = await measure(servers[who], who, shape, round, WARMUP_SECONDS);
        if (warm.errors) log(`  warm-up ${shape} ${who}: ${warm.errors} errors: ${warm.firstError}`);
        const run = await measure(servers[who], who, shape, round, ROUND_SECONDS);
        report.runs.push(run);
        line.push(describeRun(run));
      }
      log(`round ${round} ${shape}: ${line.join(' | ')}`);
    }
  }

  // 3b. The response cache's invalidation cost: two O cached processes sharing the database and Redis.
  if (contestants.includes('Oc') && INVALIDATION_SAMPLES > 0) {
    if (!(await reachable(REDIS_URL))) {
      log(`cache invalidation: not measured (no Redis at ${REDIS_URL}; BENCH_REDIS_URL)`);
    } else {
      const pair = [await startO('Oc-writer', db.url, { REDIS_URL }), await startO('Oc-reader', db.url, { REDIS_URL })];
      try {
        const orderBody = () => {
          const variant = pick(variants.S3);
          return { token: variant.token, body: variant.body.replace(KEY_PLACEHOLDER, `${S3_KEY_PREFIX}invalidation-${randomUUID()}`) };
        };
        report.cacheInvalidation = await measureCacheInvalidation(
          { writer: pair[0]!, reader: pair[1]!, adminToken, order: orderBody, samples: INVALIDATION_SAMPLES, log },
          `two O cached processes (REDIS_URL set: the change feed and the doorbell over Redis), one database; ${INVALIDATION_SAMPLES} changes per kind, one at a time; latency from the writer's response (the commit is before it) to the first read on the other process that shows the change, reads back to back.`,
        );
      } finally {
        for (const server of pair) await stopServer(server);
      }
    }
  }

  // 4. Ablation: O as shipped and O with one feature off, S1, interleaved.
  if (ABLATION && SHAPES.includes('S1')) {
    const wanted = list('BENCH_ABLATION_FEATURES', ABLATION_VARIANTS.map((v) => v.id).join(','));
    const extra: AblationVariant[] = (env.BENCH_ABLATION_EXTRA ?? '')
      .split('|')
      .filter(Boolean)
      .map((spec) => {
        const [id, pairs = ''] = spec.split(/:(.*)/s) as [string, string?];
        const variantEnv = Object.fromEntries(pairs.split(';').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
        return { id: id.trim(), feature: `${id.trim()} (BENCH_ABLATION_EXTRA)`, env: variantEnv };
      });
    // An O from another checkout (BENCH_O_ROOT) may predate a switch: zod drops unknown variables, so
    // that variant would silently measure O as shipped. Such variants are skipped and reported.
    const oConfig = readFileSync(join(env.BENCH_O_ROOT ?? ROOT, 'src/config.ts'), 'utf8');
    const skipped: { id: string; why: string }[] = [];
    const chosen = [...ABLATION_VARIANTS.filter((v) => wanted.includes(v.id)), ...extra].filter((variant) => {
      const unknown = Object.keys(variant.env).filter((key) => !key.startsWith('OTEL_') && !oConfig.includes(key));
      if (unknown.length) skipped.push({ id: variant.id, why: `this O does not read ${unknown.join(', ')}` });
      return unknown.length === 0;
    });
    const ablation: NonNullable<Report['ablation']> = { rounds: ABLATION_ROUNDS, batches: 1, variants: chosen, skipped, runs: [] };
    report.ablation = ablation;
    // The other contestants are done: their pools would only hold connections the variants need.
    for (const who of contestants) {
      if (who !== 'O' && servers[who]) await stopServer(servers[who]);
    }
    const baseline = servers.O ?? (await startContestant('O', db.url));
    // Each O keeps its pool open while idle, and PostgreSQL refuses clients past max_connections
    // (100 by default): as many variants run side by side as the free connections allow, in
    // batches; each batch has its own rounds, numbered on from the last batch's, with O in each.
    const budget = await connectionBudget();
    const most = Math.max(1, Math.floor((budget - 10) / poolMax));
    const perBatch = Math.ceil(chosen.length / Math.ceil(chosen.length / most));
    const batches = Array.from({ length: Math.ceil(chosen.length / perBatch) }, (_, i) => chosen.slice(i * perBatch, (i + 1) * perBatch));
    ablation.batches = batches.length;
    log(`ablation: ${chosen.length} variants in ${batches.length} batch(es) of at most ${perBatch} (${budget} free database connections), ${ABLATION_ROUNDS} rounds each`);
    let roundNumber = 0;
    for (const batch of batches) {
      const batchServers = new Map<string, ServerProcess>([['O', baseline]]);
      try {
        for (const variant of batch) batchServers.set(variant.id, await startO(`O-${variant.id}`, db.url, { ...UNCACHED, ...variant.env }));
        const ids = [...batchServers.keys()];
        for (let round = 1; round <= ABLATION_ROUNDS; round += 1) {
          roundNumber += 1;
          const line: string[] = [];
          for (const id of rotate(ids, round - 1)) {
            await measure(batchServers.get(id)!, id, 'S1', roundNumber, WARMUP_SECONDS);
            const run = await measure(batchServers.get(id)!, id, 'S1', roundNumber, ROUND_SECONDS);
            ablation.runs.push(run);
            line.push(describeRun(run));
          }
          log(`ablation round ${roundNumber} S1: ${line.join(' | ')}`);
        }
      } finally {
        for (const [id, server] of batchServers) if (id !== 'O') await stopServer(server);
      }
    }
  }

  // 5. Profiles of fresh O and O bare processes over exactly one measured run each.
  if (PROFILE_DIR) {
    await mkdir(PROFILE_DIR, { recursive: true });
    const stamp = report.date.replaceAll(':', '-');
    for (const who of ['O', 'Obare', ...(contestants.includes('Oc') ? (['Oc'] as const) : [])] as const) {
      for (const shape of SHAPES.filter((s) => s === 'S1' || s === 'S2')) {
        const server = await startContestant(who, db.url, { inspect: true });
        try {
          if (who === 'Oc') await warmCache(server, shape);
          const inspectorUrl = /Debugger listening on (ws:\/\/\S+)/.exec(server.stderr())?.[1];
          if (!inspectorUrl) throw new Error(`no inspector URL from ${who}:\n${server.stderr()}`);
          await measure(server, who, shape, 0, WARMUP_SECONDS);
          const profiler = await startInspectorProfile(inspectorUrl);
          const run = await measure(server, who, shape, 0, PROFILE_SECONDS);
          const profile = await profiler.stop();
          const file = join(PROFILE_DIR, `${who}-${shape}-${stamp}.cpuprofile`);
          await writeFile(file, JSON.stringify(profile));
          const summary = analyseProfile(profile);
          report.profiles.push({ contestant: who, shape, file, rps: run.rps, summary });
          log(`profile ${who} ${shape}: ${file} (${run.rps.toFixed(0)} req/s while profiled); top: ${summary.byFamily.slice(0, 4).map(([k, v]) => `${k} ${(100 * v).toFixed(0)} %`).join(', ')}`);
        } finally {
          await stopServer(server);
        }
      }
    }
  }
} finally {
  for (const server of [...live]) await stopServer(server);
  await sink.close();
  await db.close();
  await rm(scriptDir, { recursive: true, force: true });
}
report.loadAverage.end = loadAverage();
report.durationSeconds = (Date.now() - started) / 1_000;
report.otlpExports = sink.requests();

const raw = new URL(`./results/raw/requests-${report.date.replaceAll(':', '-')}.json`, import.meta.url);
await mkdir(new URL('./results/raw/', import.meta.url), { recursive: true });
await writeFile(raw, `${JSON.stringify(report, null, 2)}\n`);
const summary = await writeReport(report, { rawFile: raw.pathname, appendHistory: env.BENCH_HISTORY !== 'false' });
log(summary);
log(`report: bench/RESULTS.md, chart: bench/results/requests.svg, history: bench/results/history.json, raw: ${raw.pathname} (${report.durationSeconds.toFixed(0)} s)`);

// 6. Subscriptions (the last section of the report), unless BENCH_SUBSCRIPTIONS=false.
if (env.BENCH_SUBSCRIPTIONS !== 'false') {
  log('subscriptions: bench/subscriptions.ts (about 5 minutes)');
  await runSubscriptionBench({ log });
}
