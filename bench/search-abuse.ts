// Search abuse (issue 10, item 8): what big search strings do to a gateway and to its other
// customers, measured against a gateway started from any checkout, so the same script measures a
// commit before the fix and after it:
//
//   node bench/search-abuse.ts                              # this checkout
//   BENCH_O_ROOT=/tmp/og-before node bench/search-abuse.ts  # e.g. a `git worktree add /tmp/og-before 39f143c`
//                                                           # with node_modules symlinked into it
//
// (a) one 9 MiB `products(filter: { search })` with MAX_BODY_BYTES=10485760 (its documented
//     maximum): the request's time, the longest /health answer meanwhile (event-loop stall), the
//     gateway's RSS growth; then the same request abandoned by its client after 2 s: how long its
//     SQL kept running (pg_stat_activity).
// (b) at default settings: another customer's p95 (products(first: 5), 5 requests a second) alone,
//     then while one anonymous client sends 60 KB search strings at 28 requests a second, then
//     while it sends 200-character searches (the longest accepted now) at the same rate.
//
// The gateway runs `node --import ./src/platform/telemetry/register.ts src/main.ts` (as `npm start`)
// on a fresh database it migrates and seeds itself: the embedded PGlite, as `npm start` does
// (BENCH_DB=embedded, the default), or a new database on the PostgreSQL of BENCH_DATABASE_URL
// (BENCH_DB=postgres; default the local one; only there is an abandoned request's SQL watched in
// pg_stat_activity). Knobs: BENCH_PHASE_SECONDS (default 20). Loopback only; every loop is
// bounded. Not part of `npm test`. The machine is shared: compare ratios within one run.
// BENCH_ONLY=a or b runs one part.
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../test/support/net.ts';
import { ROOT, startServer, type ServerProcess } from './lib/proc.ts';

const ROOT_UNDER_TEST = process.env.BENCH_O_ROOT ?? ROOT;
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PHASE_MS = Number(process.env.BENCH_PHASE_SECONDS ?? 20) * 1_000;
/** How long after an abandoned 9 MiB search its SQL is looked for (the old gateway took ~25 s in all). */
const ABANDON_WATCH_MS = 45_000;
/** `a`, `b` or both (default). */
const ONLY = process.env.BENCH_ONLY;
const EMBEDDED = (process.env.BENCH_DB ?? 'embedded') === 'embedded';

// Only the count: the cheapest search by armor's cost (about 20 points), as the abuse of issue 10
// sent it, so that before the fix a client at 28 requests/s stays under the default cost budget.
const SEARCH = 'query Search($s: String) { products(filter: { search: $s }) { totalCount } }';
const VICTIM = 'query Page { products(first: 5) { edges { node { id name price { amount } } } } }';
const SIGN_IN = 'mutation SignIn($input: SignInInput!) { signIn(input: $input) { ... on SignInSuccess { auth { accessToken } } } }';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 0) => Math.round(value * 10 ** digits) / 10 ** digits;
const percentile = (values: readonly number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

/** Resident set size of a process in MB, from /proc. */
function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** A search string of `length` characters that matches no product (so every row is compared). */
const searchOf = (length: number) => 'qz'.repeat(Math.ceil(length / 2)).slice(0, length);

async function post(url: string, query: string, variables: Record<string, unknown>, options: { token?: string; signal?: AbortSignal } = {}) {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await response.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code;
  } catch {
    code = 'not JSON';
  }
  return { status: response.status, code, ms: performance.now() - started };
}

async function startGateway(database: string | undefined, env: Record<string, string>): Promise<{ server: ServerProcess; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'og-bench-search-'));
  const port = await freePort();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  const server = await startServer(
    'ordergraph',
    ['--import', './src/platform/telemetry/register.ts', 'src/main.ts'],
    { NODE_ENV: 'development', HOST: '127.0.0.1', ...(database ? { DATABASE_URL: url.toString() } : {}), DATA_DIR: dataDir, GRAPHIQL: 'false', SEED_DEMO_DATA: 'true', ...env },
    port,
    async (origin) => (await fetch(`${origin}/ready`)).ok,
    { cwd: ROOT_UNDER_TEST, timeoutMs: 120_000 },
  );
  return { server, dataDir };
}

/** (a) One 9 MiB search; then the same one abandoned after 2 s. */
async function hugeSearch(admin: pg.Client | undefined, database: string | undefined) {
  const { server, dataDir } = await startGateway(database, { MAX_BODY_BYTES: String(10 * 1024 * 1024) });
  try {
    const origin = new URL(server.url).origin;
    for (let i = 0; i < 20; i += 1) await post(server.url, VICTIM, {});
    await sleep(1_000);
    const rssBefore = rssMb(server.pid);
    let rssPeak = rssBefore;
    let healthWorst = 0;
    let running = true;
    const sampler = (async () => {
      while (running) {
        rssPeak = Math.max(rssPeak, rssMb(server.pid));
        const started = performance.now();
        await fetch(`${origin}/health`).then((r) => r.arrayBuffer());
        healthWorst = Math.max(healthWorst, performance.now() - started);
        await sleep(20);
      }
    })();
    const big = searchOf(9 * 1024 * 1024);
    const answer = await post(server.url, SEARCH, { s: big }, { signal: AbortSignal.timeout(120_000) }).catch((error: unknown) => ({ status: 0, code: String(error), ms: 120_000 }));
    await sleep(2_000);
    running = false;
    await sampler;

    // The same request, given up by its client after 2 s: how long does its SQL go on?
    if (!admin || !database) return { status: answer.status, code: answer.code, requestMs: round(answer.ms), healthWorstMs: round(healthWorst), rssBeforeMb: round(rssBefore), rssPeakMb: round(rssPeak), rssGrowthMb: round(rssPeak - rssBefore) };
    const abandoned = new AbortController();
    const pending = post(server.url, SEARCH, { s: big }, { signal: abandoned.signal }).catch(() => undefined);
    await sleep(2_000);
    abandoned.abort();
    await pending;
    const gaveUpAt = performance.now();
    // The server may still be parsing when the client leaves: watch for its SQL to start, then end.
    let sqlRunningAfterAbortMs = 0;
    let sawSql = false;
    while (performance.now() - gaveUpAt < ABANDON_WATCH_MS) {
      const { rows } = await admin.query<{ n: string }>(
        "select count(*) as n from pg_stat_activity where datname = $1 and state = 'active' and query ilike '%catalog_products%'",
        [database],
      );
      if (Number(rows[0]!.n) > 0) {
        sawSql = true;
        sqlRunningAfterAbortMs = performance.now() - gaveUpAt;
      } else if (sawSql) {
        break;
      }
      await sleep(50);
    }
    return {
      status: answer.status,
      code: answer.code,
      requestMs: round(answer.ms),
      healthWorstMs: round(healthWorst),
      rssBeforeMb: round(rssBefore),
      rssPeakMb: round(rssPeak),
      rssGrowthMb: round(rssPeak - rssBefore),
      abandoned: { sqlSeenAfterClientGaveUp: sawSql, sqlRunningAfterClientGaveUpMs: round(sqlRunningAfterAbortMs) },
    };
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Sends `send` every `intervalMs` for `ms` (open loop: a slow answer does not delay the next request). */
async function openLoop<T>(ms: number, intervalMs: number, send: () => Promise<T>): Promise<T[]> {
  const results: Promise<T>[] = [];
  const end = performance.now() + ms;
  let next = performance.now();
  while (performance.now() < end) {
    results.push(send());
    next += intervalMs;
    await sleep(Math.max(0, next - performance.now()));
  }
  return Promise.all(results);
}

/** (b) Another customer's p95 alone, next to 60 KB searches, and next to 200-character searches. */
async function noisyNeighbour(database: string | undefined) {
  const { server, dataDir } = await startGateway(database, {});
  try {
    const signIn = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: SIGN_IN, variables: { input: { email: 'premium@ordergraph.dev', password: 'demo-pass-premium' } } }),
    });
    const token = ((await signIn.json()) as { data: { signIn: { auth: { accessToken: string } } } }).data.signIn.auth.accessToken;
    for (let i = 0; i < 20; i += 1) await post(server.url, VICTIM, {}, { token });

    const phase = async (abuse: string | undefined) => {
      const abuser = abuse === undefined ? Promise.resolve([]) : openLoop(PHASE_MS, 1_000 / 28, () => post(server.url, SEARCH, { s: abuse }).catch(() => ({ status: 0, code: 'failed', ms: 0 })));
      const victim = await openLoop(PHASE_MS, 200, () => post(server.url, VICTIM, {}, { token }).catch(() => ({ status: 0, code: 'failed', ms: Number.NaN })));
      const abusive = await abuser;
      const outcomes: Record<string, number> = {};
      for (const a of abusive) outcomes[`${a.status} ${a.code ?? 'ok'}`] = (outcomes[`${a.status} ${a.code ?? 'ok'}`] ?? 0) + 1;
      const times = victim.map((v) => v.ms);
      return {
        victimRequests: victim.length,
        victimFailures: victim.filter((v) => v.status !== 200).length,
        victimP50Ms: round(percentile(times, 0.5), 1),
        victimP95Ms: round(percentile(times, 0.95), 1),
        abuserRequests: abusive.length,
        abuserOutcomes: outcomes,
        abuserMedianMs: round(percentile(abusive.map((a) => a.ms), 0.5), 1),
      };
    };
    const alone = await phase(undefined);
    await sleep(2_000);
    const search60k = await phase(searchOf(60_000));
    // A fresh minute for the abuser's cost budget (anonymous: one identity, 127.0.0.1).
    await sleep(61_000);
    const search200 = await phase(searchOf(200));
    return { alone, search60k, search200, p95Ratio60k: round(search60k.victimP95Ms / alone.victimP95Ms, 2), p95Ratio200: round(search200.victimP95Ms / alone.victimP95Ms, 2) };
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const admin = EMBEDDED ? undefined : new pg.Client({ connectionString: ADMIN_URL });
await admin?.connect();
const databases: string[] = [];
const freshDatabase = async () => {
  if (!admin) return undefined;
  const name = `og_bench_search_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await admin.query(`create database ${name}`);
  databases.push(name);
  return name;
};
try {
  console.log(`search abuse against ${ROOT_UNDER_TEST} (${EMBEDDED ? 'embedded PGlite' : `PostgreSQL ${new URL(ADMIN_URL).host}`}, phases of ${PHASE_MS / 1_000} s, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`);
  const a = ONLY === 'b' ? undefined : await hugeSearch(admin, await freshDatabase());
  if (a) console.log('(a) one 9 MiB search, MAX_BODY_BYTES=10485760:', JSON.stringify(a));
  const b = ONLY === 'a' ? undefined : await noisyNeighbour(await freshDatabase());
  if (b) console.log('(b) another customer next to one anonymous searcher at 28 req/s:', JSON.stringify(b));
  console.log(JSON.stringify({ root: ROOT_UNDER_TEST, hugeSearch: a, noisyNeighbour: b }));
} finally {
  for (const name of databases) await admin?.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
  await admin?.end();
}
