// Subscription benchmark (issues 6 and 14): N graphql-ws subscribers (1,000 and 10,000 by default)
// on one Ordergraph instance while order statuses change at a steady rate, the CPU each change
// costs, and the memory each idle subscribed socket costs, side by side with a bare `ws` server
// holding as many sockets; optionally a ramp to many idle subscribed sockets (50,000 in issue 14).
//
//   npm run bench:subscriptions                                              # about 5 minutes
//   BENCH_SUBS_SIZES=1000 BENCH_SUBS_REPEATS=2 npm run bench:subscriptions   # quicker
//   BENCH_SUBS_SIZES= BENCH_SUBS_IDLE=50000 npm run bench:subscriptions      # the idle ramp alone
//   BENCH_SUBS_CPU_PROFILE=true npm run bench:subscriptions                  # + .cpuprofile of each Ordergraph round
//   BENCH_SUBS_HEAP_SNAPSHOTS=true BENCH_SUBS_SIZES=2000 BENCH_SUBS_REPEATS=1 npm run bench:subscriptions
//                                              # + what an idle subscribed socket holds, by constructor and holder
//
// Knobs (environment, or the options of runSubscriptionBench): BENCH_SUBS_SIZES (1000,10000; empty
// for none), BENCH_SUBS_REPEATS (3), BENCH_SUBS_EVENTS (20 changes per round), BENCH_SUBS_RATE (1
// change/s), BENCH_SUBS_CLIENT_PROCS (one per 2,500 sockets, or per 5,000 of the ramp),
// BENCH_SUBS_DRAIN_MS (30000), BENCH_DATABASE_URL, BENCH_SUBS_IDLE (0: no ramp), BENCH_SUBS_IDLE_STEP
// (10000), BENCH_SUBS_IDLE_HOLD_S (30), BENCH_SUBS_CPU_PROFILE (a V8 profile of Ordergraph over each
// measured round, through the inspector, summarised in the output), BENCH_SUBS_HEAP_SNAPSHOTS
// (heap snapshots of Ordergraph before and after its sockets connect, compared per socket:
// bench/subscriptions/heap-snapshot.ts), BENCH_SUBS_WRITE_REPORT (false: leave bench/RESULTS.md
// alone), BENCH_SUBS_SERVER_FLAGS (extra Node flags for Ordergraph, e.g. --trace-gc),
// BENCH_SUBS_SERVER_LOG (a file for its output), BENCH_SUBS_ORDERGRAPH_ROOT (run Ordergraph from
// another checkout, e.g. an export of an earlier commit, for before/after figures).
// One change per second to 10,000 sockets is 10,000 deliveries per second: about what one Node
// process can write to that many sockets on these two shared cores (the bare server needs ~90 ms
// of CPU per broadcast), so faster rates measure a backlog rather than the fan-out.
//
// What it does, all on loopback and bounded in count and time:
// - a database `ordergraph_bench_subs` on the PostgreSQL at BENCH_DATABASE_URL / TEST_DATABASE_URL
//   (default postgres://postgres@127.0.0.1:5432/postgres), migrated and seeded by the app's own
//   `src/cli/seed.ts`, dropped at the end; without a reachable server, the embedded PGlite;
// - Ordergraph as a child process started like production (`node --import …/register.ts
//   src/main.ts`, NODE_ENV=production, tracing on as shipped and exporting nowhere, LOG_LEVEL=warn,
//   RATE_LIMITS=false so the driver is not throttled, WS_MAX_SOCKETS_PER_ADDRESS twice the largest
//   size since sockets come from a few loopback addresses), and the bare server
//   (bench/subscriptions/bare-server.ts), both with the inspector on loopback to read memory;
// - client worker processes (bench/subscriptions/client-worker.ts) with raw `ws` sockets speaking
//   graphql-transport-ws: connection_init with an admin token, then one `orderStatusChanged`
//   subscription without orderId, i.e. every order: each change fans out to every socket, the
//   worst case for time to the last subscriber (a per-order subscriber still costs the server a
//   hand-off per change, and receives nothing to time for the changes of other orders);
// - per size and repeat: the bare server's memory before and after N sockets connect and sit idle
//   (after forced GCs), then it broadcasts BENCH_SUBS_EVENTS messages of the shape of Ordergraph's
//   at BENCH_SUBS_RATE per second (the floor); then the same for Ordergraph, whose changes are
//   updateOrderStatus SHIPPED / DELIVERED as admin on orders placed beforehand; each client notes
//   receive time − the change's `at` (its status-history time, the commit time; one clock), and
//   the CPU time of the server and of the client processes over the round is read;
// - with BENCH_SUBS_IDLE, Ordergraph then takes that many subscribed sockets in steps (memory at
//   each), holds them idle and is read again (bench/subscriptions/idle-ramp.ts), as far as its
//   open-files limit allows; clients connect from 127.0.0.1, .2, … (one address per 20,000).
// Results: the `## Subscriptions` section of bench/RESULTS.md and bench/results/raw/subscriptions-*.json.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { demoToken, generateJwtKey, gql, PLACE_ORDER, UPDATE_STATUS } from '../test/ops/support/gateway.ts';
import { freePort } from '../test/support/net.ts';
import { analyseProfile, formatSummary } from './lib/cpu-profile.ts';
import { startInspectorProfile } from './lib/inspector-profile.ts';
import { stopChildrenOnSignals } from './lib/stop-children-on-signal.ts';
import { compareSnapshots, newObjectsByOrigin, writeHeapSnapshot } from './subscriptions/heap-snapshot.ts';
import { renderSubscriptionChart, type ChartInput } from './subscriptions/chart.ts';
import { renderIdleRamp, runIdleRamp, type IdleRamp } from './subscriptions/idle-ramp.ts';
import { ROOT, startServerProcess, type MemorySample, type ServerProcess } from './subscriptions/processes.ts';
import type { ClientCommand, ClientReply, EventDeliveries } from './subscriptions/protocol.ts';

/** Settings of {@link runSubscriptionBench}; each defaults to its environment variable, then to the value shown. */
export interface SubscriptionBenchOptions {
  /** Subscriber counts (BENCH_SUBS_SIZES, comma-separated; 1000,10000). */
  readonly sizes?: readonly number[];
  /** Connect → measure memory → one round of changes → disconnect, this many times per size (BENCH_SUBS_REPEATS; 3). */
  readonly repeats?: number;
  /** Status changes per round (BENCH_SUBS_EVENTS; 20). */
  readonly events?: number;
  /** Status changes per second (BENCH_SUBS_RATE; 1). */
  readonly rate?: number;
  /** Client worker processes (BENCH_SUBS_CLIENT_PROCS; one per 2,500 sockets of the largest size). */
  readonly clientProcesses?: number;
  /** Longest wait for the last deliveries after the last change of a round (BENCH_SUBS_DRAIN_MS; 30000). */
  readonly drainMs?: number;
  /** Admin URL of a PostgreSQL server (BENCH_DATABASE_URL, TEST_DATABASE_URL; postgres://postgres@127.0.0.1:5432/postgres). */
  readonly databaseUrl?: string;
  /** Write V8 CPU profiles of each measured round (Ordergraph and the bare server) to bench/results/raw/profiles (BENCH_SUBS_CPU_PROFILE; false). */
  readonly cpuProfile?: boolean;
  /** Heap snapshots of Ordergraph before and after its sockets connect, compared by constructor per socket (BENCH_SUBS_HEAP_SNAPSHOTS; false). */
  readonly heapSnapshots?: boolean;
  /** Idle subscribed sockets to ramp Ordergraph up to after the latency rounds (BENCH_SUBS_IDLE; 0: no ramp). */
  readonly idleSockets?: number;
  /** Sockets added per step of the ramp (BENCH_SUBS_IDLE_STEP; 10000). */
  readonly idleStep?: number;
  /** Seconds the ramp's sockets stay idle before the last reading (BENCH_SUBS_IDLE_HOLD_S; 30). */
  readonly idleHoldSeconds?: number;
  /** Run Ordergraph from another checkout, e.g. a worktree of an earlier commit for before/after figures (BENCH_SUBS_ORDERGRAPH_ROOT; this one). */
  readonly ordergraphRoot?: string;
  /** Write bench/RESULTS.md's `## Subscriptions` section and the raw JSON (BENCH_SUBS_WRITE_REPORT; true). */
  readonly writeReport?: boolean;
  /** Progress lines (console.log). */
  readonly log?: (line: string) => void;
}

/** Percentiles of commit-to-delivery latency over every delivery of one round, in ms. */
export interface LatencyRound {
  readonly subscribers: number;
  readonly events: number;
  readonly expected: number;
  readonly delivered: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Per event, the latency of its last delivery: median and worst over the round's events. */
  readonly timeToLast: { readonly median: number; readonly max: number };
  /** Per event, the latency of its first delivery (the pipeline before the fan-out): median over the round's events. */
  readonly firstDelivery: number;
  /** Ordergraph only: mean time from `at` to the event reaching the pub/sub (its publish-lag histogram), ms. */
  readonly publishLagMs?: number;
  /** Changes that failed (errors as data or transport), i.e. no event to deliver. */
  readonly failedChanges: number;
  readonly firstError?: string;
  /** CPU time of the server during the round (from the first change until every delivery was in, polls included) per change, ms: the steadiest figure on shared cores. */
  readonly serverCpuMsPerEvent: number;
  /** CPU time of the client worker processes (the load generator) during the round per change, ms. */
  readonly generatorCpuMsPerEvent: number;
  /** CLOCK_MONOTONIC µs at the round's first change and when its deliveries were in: the window to read in a CPU profile. */
  readonly window: readonly [number, number];
}

/** Memory of one server process before and after N idle subscribed sockets, per socket in bytes. */
export interface MemoryRound {
  readonly sockets: number;
  readonly before: MemorySample;
  readonly after: MemorySample;
  readonly rssPerSocket: number;
  readonly heapPerSocket: number;
  /** Seconds until every socket was open (and, for Ordergraph, subscribed). */
  readonly connectSeconds: number;
}

/** Everything measured at one subscriber count. */
export interface SizeResult {
  readonly subscribers: number;
  readonly latency: LatencyRound[];
  /** The same rounds against the bare `ws` server broadcasting a message of the same shape: the floor. */
  readonly bareLatency: LatencyRound[];
  readonly memory: { readonly ordergraph: MemoryRound[]; readonly bareWs: MemoryRound[] };
}

/** The run's results, as written to the raw JSON. */
export interface SubscriptionBenchResult {
  readonly date: string;
  readonly database: 'postgresql' | 'pglite';
  readonly machine: string;
  readonly settings: { readonly repeats: number; readonly events: number; readonly rate: number; readonly clientProcesses: number; readonly drainMs: number; readonly ordergraphRoot: string };
  readonly sizes: SizeResult[];
  /** The idle-socket ramp (BENCH_SUBS_IDLE), when run. */
  readonly idle?: IdleRamp;
  readonly seconds: number;
  /** The `## Subscriptions` section of bench/RESULTS.md. */
  readonly markdown: string;
}

const SUBSCRIPTION = 'subscription Follow { orderStatusChanged { version from to at order { id number status total { amount currency } } } }';
const PRODUCT_STOCK = 'query Stock { products(first: 50) { edges { node { id price { amount } stock } } } }';
const DB_NAME = 'ordergraph_bench_subs';

const envNumber = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: ArrayLike<number>, q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!);
const median = (values: readonly number[]) => percentile(Float64Array.from(values).sort(), 0.5);

/** A client worker process and a typed request/reply over its IPC channel (one request at a time). */
class ClientWorker {
  readonly child: ChildProcess;
  constructor() {
    this.child = fork(fileURLToPath(new URL('./subscriptions/client-worker.ts', import.meta.url)), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }
  request<T extends ClientReply['type']>(command: ClientCommand | undefined, replyType: T, timeoutMs = 120_000): Promise<Extract<ClientReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.off('message', onMessage);
        reject(new Error(`client worker: no ${replyType} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (reply: ClientReply) => {
        if (reply.type !== replyType) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(reply as Extract<ClientReply, { type: T }>);
      };
      this.child.on('message', onMessage);
      if (command) this.child.send(command);
    });
  }
}

/** The `## Subscriptions` section of bench/RESULTS.md: replaces that section, or appends it at the end. */
async function writeSection(markdown: string): Promise<void> {
  const file = new URL('./RESULTS.md', import.meta.url);
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === undefined) {
    await writeFile(file, `# Benchmarks (issue #6)\n\n${markdown}`);
    return;
  }
  const start = current.search(/^## Subscriptions[ \t]*$/m);
  if (start < 0) {
    await writeFile(file, `${current.trimEnd()}\n\n${markdown}`);
    return;
  }
  const rest = current.slice(start + '## Subscriptions'.length);
  const next = rest.search(/^## /m);
  const after = next < 0 ? '' : `\n${rest.slice(next)}`;
  await writeFile(file, `${current.slice(0, start)}${markdown}${after}`);
}

/** Creates a fresh `ordergraph_bench_subs` on the server, or returns undefined when none answers. */
async function prepareDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  try {
    await admin.query(`drop database if exists ${DB_NAME} with (force)`);
    await admin.query(`create database ${DB_NAME}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${DB_NAME}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${DB_NAME} with (force)`);
      await client.end();
    },
  };
}

/** Reads one gauge (no labels) from Ordergraph's /metrics. */
async function gauge(origin: string, name: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : NaN;
}

async function until(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

/**
 * Runs the subscription benchmark and returns its figures; also writes them to bench/RESULTS.md
 * (section `## Subscriptions`) and bench/results/raw/ unless `writeReport` is false. Bounded:
 * every wait has a timeout, every loop a count; about 5 minutes with the defaults.
 */
export async function runSubscriptionBench(options: SubscriptionBenchOptions = {}): Promise<SubscriptionBenchResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const sizes = options.sizes ?? (process.env.BENCH_SUBS_SIZES ?? '1000,10000').split(',').filter(Boolean).map(Number);
  const idleTarget = options.idleSockets ?? envNumber('BENCH_SUBS_IDLE', 0);
  const idleStep = options.idleStep ?? envNumber('BENCH_SUBS_IDLE_STEP', 10_000);
  const idleHoldSeconds = options.idleHoldSeconds ?? envNumber('BENCH_SUBS_IDLE_HOLD_S', 30);
  const repeats = options.repeats ?? envNumber('BENCH_SUBS_REPEATS', 3);
  const events = Math.max(2, Math.floor((options.events ?? envNumber('BENCH_SUBS_EVENTS', 20)) / 2) * 2);
  const rate = options.rate ?? envNumber('BENCH_SUBS_RATE', 1);
  const drainMs = options.drainMs ?? envNumber('BENCH_SUBS_DRAIN_MS', 30_000);
  const largest = Math.max(0, ...sizes);
  // A worker holds up to 5,000 idle sockets (its own open-files limit applies too).
  const clientProcesses = options.clientProcesses ?? envNumber('BENCH_SUBS_CLIENT_PROCS', Math.max(1, Math.ceil(largest / 2_500), Math.ceil(idleTarget / 5_000)));
  // Each loopback source address gives the ramp's clients ~28,000 ephemeral ports (32768–60999 here): one per 20,000 sockets.
  const sourceAddresses = Math.max(1, Math.ceil(idleTarget / 20_000));
  const cpuProfile = options.cpuProfile ?? process.env.BENCH_SUBS_CPU_PROFILE === 'true';
  const heapSnapshots = options.heapSnapshots ?? process.env.BENCH_SUBS_HEAP_SNAPSHOTS === 'true';
  const ordergraphRoot = options.ordergraphRoot ?? process.env.BENCH_SUBS_ORDERGRAPH_ROOT ?? ROOT;
  const adminUrl = options.databaseUrl ?? process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 20_000)) throw new Error('BENCH_SUBS_SIZES: integers from 1 to 20000');
  if (!Number.isInteger(idleTarget) || idleTarget < 0 || idleTarget > 100_000) throw new Error('BENCH_SUBS_IDLE: an integer from 0 to 100000');
  if (!Number.isInteger(idleStep) || idleStep < 1) throw new Error('BENCH_SUBS_IDLE_STEP: a positive integer');
  const started = performance.now();
  const stack: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const step of stack.reverse()) await step().catch((error: unknown) => log(`cleanup: ${String(error)}`));
  };

  try {
    // --- database and servers --------------------------------------------------------------
    const dataDir = await mkdtemp(join(tmpdir(), 'ordergraph-bench-subs-'));
    stack.push(() => rm(dataDir, { recursive: true, force: true }));
    const jwtKey = generateJwtKey();
    const database = await prepareDatabase(adminUrl);
    if (database) stack.push(database.drop);
    // Client sockets come from a few loopback addresses: the per-address cap (100 by default) must
    // admit the largest size, twice over while the server still counts a previous round's sockets.
    const maxSockets = String(2 * Math.max(largest, idleTarget));
    const appEnv: Record<string, string> = { DATA_DIR: dataDir, JWT_PRIVATE_KEY: jwtKey, LOG_LEVEL: 'warn', RATE_LIMITS: 'false', HOST: '127.0.0.1', WS_MAX_SOCKETS_PER_ADDRESS: maxSockets };
    if (database) {
      log(`database: ${DB_NAME} on PostgreSQL; migrating and seeding with src/cli/seed.ts`);
      const seeded = spawnSync(process.execPath, ['src/cli/seed.ts'], { cwd: ordergraphRoot, env: { PATH: process.env.PATH ?? '', ...appEnv, NODE_ENV: 'development', DATABASE_URL: database.url }, encoding: 'utf8', timeout: 120_000 });
      if (seeded.status !== 0) throw new Error(`seeding failed:\n${seeded.stdout}\n${seeded.stderr}`);
      Object.assign(appEnv, { NODE_ENV: 'production', DATABASE_URL: database.url });
    } else {
      // No server: the embedded PGlite (development mode migrates and seeds it at start; production
      // mode requires DATABASE_URL). One session serialises every query: expect worse figures.
      log('database: no PostgreSQL answered; using the embedded PGlite (development mode)');
      Object.assign(appEnv, { NODE_ENV: 'development', GRAPHIQL: 'false', INTROSPECTION: 'false' });
    }
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const url = `${origin}/graphql`;
    const profileDir = fileURLToPath(new URL('./results/raw/profiles/', import.meta.url));
    if (cpuProfile || heapSnapshots) await mkdir(profileDir, { recursive: true });
    const ordergraph = await startServerProcess({
      args: ['--import', './src/platform/telemetry/register.ts', 'src/main.ts'],
      cwd: ordergraphRoot,
      // BENCH_SUBS_SERVER_FLAGS: extra Node flags for Ordergraph, for experiments (e.g. --trace-gc).
      execArgv: process.env.BENCH_SUBS_SERVER_FLAGS?.split(' ').filter(Boolean) ?? [],
      env: { ...appEnv, PORT: String(port) },
      ready: async () => (await fetch(`${origin}/health`)).ok,
      ...(process.env.BENCH_SUBS_SERVER_LOG ? { logFile: process.env.BENCH_SUBS_SERVER_LOG } : {}),
    });
    stack.push(() => ordergraph.stop());
    const barePort = await freePort();
    const bare = await startServerProcess({ args: ['bench/subscriptions/bare-server.ts', String(barePort)], env: {}, ready: (output) => output.includes('listening ') });
    stack.push(() => bare.stop());
    log(`ordergraph on ${url} (pid ${ordergraph.child.pid}), bare ws on ${barePort} (pid ${bare.child.pid})`);

    // --- orders to move: two changes each (PAID → SHIPPED → DELIVERED) ------------------------
    const warmupEvents = 4;
    const totalEvents = warmupEvents + sizes.length * repeats * events;
    const customer = await demoToken(url, 'basic');
    const stock = await gql<{ products: { edges: { node: { id: string; price: { amount: string }; stock: number } }[] } }>(url, PRODUCT_STOCK, {}, { token: customer });
    const products = (stock.body.data?.products.edges ?? []).map((e) => e.node).filter((p) => Number(p.price.amount) <= 30 && p.stock >= 100);
    if (products.length === 0) throw new Error(`no cheap products in stock: ${JSON.stringify(stock.body)}`);
    const orderIds: string[] = [];
    let nextProduct = 0;
    const ordersNeeded = totalEvents / 2;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (orderIds.length < ordersNeeded && nextProduct < ordersNeeded * 2) {
          const product = products[nextProduct++ % products.length]!;
          const { body } = await gql<{ placeOrder: { __typename: string; order?: { id: string; status: string } } }>(
            url,
            PLACE_ORDER,
            { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId: product.id, quantity: 1 }] } },
            { token: customer },
          );
          if (body.data?.placeOrder.order?.status === 'PAID') orderIds.push(body.data.placeOrder.order.id);
        }
      }),
    );
    if (orderIds.length < ordersNeeded) throw new Error(`placed ${orderIds.length} paid orders of ${ordersNeeded}`);
    log(`placed ${orderIds.length} paid orders`);
    // Each round takes the next orders: SHIPPED for all of them first, then DELIVERED, so two
    // changes of one order are never in flight together.
    let nextOrder = 0;
    const takeSteps = (count: number) => {
      const batch = orderIds.slice(nextOrder, (nextOrder += count / 2));
      return [...batch.map((orderId) => ({ orderId, status: 'SHIPPED', expectedVersion: 2 })), ...batch.map((orderId) => ({ orderId, status: 'DELIVERED', expectedVersion: 3 }))];
    };

    // --- client workers -------------------------------------------------------------------
    const workers = Array.from({ length: clientProcesses }, () => new ClientWorker());
    // Only the ramp spreads its sockets over several source addresses: a socket bound to an address
    // before it connects holds its port for every destination, also through TIME_WAIT after the
    // client closes it, so the rounds (which reconnect every repeat) let the kernel choose.
    const sourceAddressOf = (worker: number) => (worker % sourceAddresses === 0 ? undefined : `127.0.0.${1 + (worker % sourceAddresses)}`);
    stack.push(async () => {
      for (const worker of workers) worker.child.kill();
    });
    await Promise.all(workers.map((w) => w.request(undefined, 'ready')));
    const split = (n: number) => workers.map((_, i) => Math.floor(n / workers.length) + (i < n % workers.length ? 1 : 0));

    const connect = async (target: string, count: number, token: string, spread = false): Promise<number> => {
      const t0 = performance.now();
      const counts = split(count);
      const replies = await Promise.all(
        workers.map((w, i) =>
          w.request(
            { type: 'connect', url: target.replace(/^http/, 'ws'), token, count: counts[i]!, concurrency: 64, query: SUBSCRIPTION, variables: {}, ...(spread && sourceAddressOf(i) ? { localAddress: sourceAddressOf(i)! } : {}) },
            'connected',
            300_000,
          ),
        ),
      );
      const failed = replies.reduce((n, r) => n + r.failed, 0);
      if (failed > 0) throw new Error(`${failed} of ${count} sockets failed to connect: ${replies.find((r) => r.failure)?.failure}`);
      return (performance.now() - t0) / 1_000;
    };
    const disconnect = async () => {
      await Promise.all(workers.map((w) => w.request({ type: 'close' }, 'closed')));
    };
    const adminToken = () => demoToken(url, 'admin');

    /** Ordergraph's publish-lag histogram: (sum in s, count). */
    const publishLag = async () => ({ sum: await gauge(origin, 'ordergraph_order_event_publish_lag_seconds_sum'), count: await gauge(origin, 'ordergraph_order_event_publish_lag_seconds_count') });
    const changeOrder = (token: string) => async (step: ReturnType<typeof takeSteps>[number]) => {
      const { body } = await gql<{ updateOrderStatus: { __typename: string } }>(url, UPDATE_STATUS, { input: step }, { token });
      if (body.data?.updateOrderStatus.__typename !== 'UpdateOrderStatusSuccess') throw new Error(JSON.stringify(body));
    };
    let bareVersion = 0;
    const bareBroadcast = async () => {
      const response = await fetch(`http://127.0.0.1:${barePort}/broadcast?version=${(bareVersion += 1)}`, { method: 'POST' });
      if (response.status !== 204) throw new Error(`bare broadcast: HTTP ${response.status}`);
    };

    /** One round: `count` changes at `rate`/s, then waits for every delivery (bounded). */
    const round = async <S,>(server: ServerProcess, subscribers: number, steps: readonly S[], change: (step: S) => Promise<void>, profile?: string): Promise<LatencyRound> => {
      const ordergraphLag = server === ordergraph;
      const resets = await Promise.all(workers.map((w) => w.request({ type: 'reset' }, 'reset')));
      const lagBefore = ordergraphLag ? await publishLag() : undefined;
      const profiler = profile ? await startInspectorProfile(server.inspectorUrl) : undefined;
      const cpuBefore = await server.cpuMs();
      let failedChanges = 0;
      let firstError: string | undefined;
      const t0 = performance.now();
      const windowStart = Number(process.hrtime.bigint() / 1000n);
      // Open loop at a fixed schedule: a slow change does not delay the next one.
      await Promise.all(
        steps.map(async (step, i) => {
          await sleep(Math.max(0, t0 + (i * 1_000) / rate - performance.now()));
          try {
            await change(step);
          } catch (error) {
            failedChanges += 1;
            firstError ??= String(error).slice(0, 500);
          }
        }),
      );
      const expected = subscribers * (steps.length - failedChanges);
      const deadline = Date.now() + drainMs;
      let reports: Extract<ClientReply, { type: 'report' }>[] = [];
      for (;;) {
        reports = await Promise.all(workers.map((w) => w.request({ type: 'report' }, 'report')));
        const delivered = reports.reduce((n, r) => n + r.events.reduce((m, e) => m + e.latencies.length, 0), 0);
        if (delivered >= expected || Date.now() > deadline) break;
        await sleep(500);
      }
      const windowEnd = Number(process.hrtime.bigint() / 1000n);
      const serverCpuMs = (await server.cpuMs()) - cpuBefore;
      if (profiler && profile) {
        const recorded = await profiler.stop();
        await writeFile(profile, JSON.stringify(recorded));
        log(formatSummary(analyseProfile(recorded, 30), `CPU profile of ${server === ordergraph ? 'Ordergraph' : 'the bare server'} during ${steps.length} events to ${subscribers} subscribers (${profile})`));
      }
      const generatorCpuMs = reports.reduce((n, r) => n + r.cpuMs, 0) - resets.reduce((n, r) => n + r.cpuMs, 0);
      const byEvent = new Map<string, number[]>();
      const all: number[] = [];
      for (const report of reports) {
        for (const event of report.events as EventDeliveries[]) {
          let list = byEvent.get(event.key);
          if (!list) byEvent.set(event.key, (list = []));
          for (const latency of event.latencies) {
            list.push(latency);
            all.push(latency);
          }
        }
      }
      const sorted = Float64Array.from(all).sort();
      const lasts = [...byEvent.values()].map((list) => list.reduce((a, b) => Math.max(a, b), -Infinity));
      const firsts = [...byEvent.values()].map((list) => list.reduce((a, b) => Math.min(a, b), Infinity));
      const lagAfter = lagBefore ? await publishLag() : undefined;
      const errors = reports.reduce((n, r) => n + r.errors + r.unexpectedCloses, 0);
      firstError ??= reports.find((r) => r.firstError)?.firstError;
      return {
        subscribers,
        events: steps.length,
        expected,
        delivered: all.length,
        errors,
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        max: sorted.length ? sorted[sorted.length - 1]! : NaN,
        timeToLast: { median: median(lasts), max: lasts.length ? Math.max(...lasts) : NaN },
        firstDelivery: median(firsts),
        ...(lagBefore && lagAfter && lagAfter.count > lagBefore.count ? { publishLagMs: ((lagAfter.sum - lagBefore.sum) / (lagAfter.count - lagBefore.count)) * 1_000 } : {}),
        failedChanges,
        ...(firstError ? { firstError } : {}),
        serverCpuMsPerEvent: serverCpuMs / steps.length,
        generatorCpuMsPerEvent: generatorCpuMs / steps.length,
        window: [windowStart, windowEnd],
      };
    };

    const memoryRound = async (server: ServerProcess, target: string, sockets: number, token: string, subscribed: () => Promise<boolean>): Promise<MemoryRound> => {
      const snapshots = heapSnapshots && server === ordergraph ? join(profileDir, `heap-${Date.now()}`) : undefined;
      if (snapshots) await writeHeapSnapshot(server.inspectorUrl, `${snapshots}-before.heapsnapshot`);
      const before = await server.memory();
      const connectSeconds = await connect(target, sockets, token);
      await until(subscribed, 60_000, `${sockets} subscribed sockets`);
      // Idle: let the handshakes' garbage and timers settle before the forced GC.
      await sleep(1_000);
      const after = await server.memory();
      if (snapshots) {
        await writeHeapSnapshot(server.inspectorUrl, `${snapshots}-after.heapsnapshot`);
        const files = [`${snapshots}-before.heapsnapshot`, `${snapshots}-after.heapsnapshot`] as const;
        for (const line of [...(await compareSnapshots(...files, sockets)), ...(await newObjectsByOrigin(...files, sockets))]) log(`  ${line}`);
      }
      return { sockets, before, after, rssPerSocket: (after.rss - before.rss) / sockets, heapPerSocket: (after.heapUsed - before.heapUsed) / sockets, connectSeconds };
    };
    const subscribedTo = (n: number) => async () => (await gauge(origin, 'ordergraph_graphql_active_subscriptions')) >= n;
    const drainedOrdergraph = async () => (await gauge(origin, 'ordergraph_websocket_connections')) === 0;

    // --- warm-up: code paths, caches and pools of both servers --------------------------------
    {
      const n = Math.min(200, Math.max(largest, idleTarget));
      const token = await adminToken();
      await connect(`http://127.0.0.1:${barePort}/graphql`, n, token);
      await disconnect();
      await connect(url, n, token);
      await until(subscribedTo(n), 60_000, 'warm-up subscriptions');
      const warm = await round(ordergraph, n, takeSteps(warmupEvents), changeOrder(token));
      await disconnect();
      await until(drainedOrdergraph, 60_000, 'warm-up sockets to close');
      log(`warm-up: ${n} subscribers, ${warm.delivered}/${warm.expected} deliveries, p50 ${warm.p50.toFixed(1)} ms`);
    }

    // --- the measurements ----------------------------------------------------------------
    const results: SizeResult[] = [];
    for (const subscribers of sizes) {
      const result: SizeResult = { subscribers, latency: [], bareLatency: [], memory: { ordergraph: [], bareWs: [] } };
      results.push(result);
      for (let repeat = 0; repeat < repeats; repeat += 1) {
        const token = await adminToken();
        // The bare server first, then Ordergraph, in every repeat: both see the same machine state.
        const bareRound = await memoryRound(bare, `http://127.0.0.1:${barePort}/graphql`, subscribers, token, async () => true);
        result.memory.bareWs.push(bareRound);
        const bareLatency = await round(bare, subscribers, Array.from({ length: events }), bareBroadcast, cpuProfile ? join(profileDir, `bare-${subscribers}-${repeat + 1}-${Date.now()}.cpuprofile`) : undefined);
        result.bareLatency.push(bareLatency);
        await disconnect();
        const ogRound = await memoryRound(ordergraph, url, subscribers, token, subscribedTo(subscribers));
        result.memory.ordergraph.push(ogRound);
        const latency = await round(ordergraph, subscribers, takeSteps(events), changeOrder(token), cpuProfile ? join(profileDir, `ordergraph-${subscribers}-${repeat + 1}-${Date.now()}.cpuprofile`) : undefined);
        result.latency.push(latency);
        await disconnect();
        await until(drainedOrdergraph, 120_000, 'sockets to close');
        log(
          `${subscribers} subscribers, repeat ${repeat + 1}/${repeats}: p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms, ` +
            `last ${latency.timeToLast.median.toFixed(1)} ms (worst ${latency.timeToLast.max.toFixed(1)}), first ${latency.firstDelivery.toFixed(1)} ms, publish lag ${latency.publishLagMs?.toFixed(1)} ms, ${latency.delivered}/${latency.expected} delivered, ${latency.errors} errors | ` +
            `bare ws: p50 ${bareLatency.p50.toFixed(1)} ms, p99 ${bareLatency.p99.toFixed(1)} ms, last ${bareLatency.timeToLast.median.toFixed(1)} ms, ${bareLatency.delivered}/${bareLatency.expected} delivered; ` +
            `per socket: ordergraph ${(ogRound.rssPerSocket / 1024).toFixed(1)} KB RSS / ${(ogRound.heapPerSocket / 1024).toFixed(1)} KB heap, ` +
            `bare ws ${(bareRound.rssPerSocket / 1024).toFixed(1)} KB RSS / ${(bareRound.heapPerSocket / 1024).toFixed(1)} KB heap; connect ${ogRound.connectSeconds.toFixed(1)} s; ` +
            `CPU per event: ordergraph ${latency.serverCpuMsPerEvent.toFixed(1)} ms, bare ws ${bareLatency.serverCpuMsPerEvent.toFixed(1)} ms, generator ${latency.generatorCpuMsPerEvent.toFixed(1)} / ${bareLatency.generatorCpuMsPerEvent.toFixed(1)} ms`,
        );
        if (latency.firstError) log(`  first error: ${latency.firstError}`);
      }
    }

    // --- idle sockets: one instance holding BENCH_SUBS_IDLE subscribed sockets ----------------
    let idle: IdleRamp | undefined;
    if (idleTarget > 0) {
      const token = await adminToken();
      const subscribedNow = () => gauge(origin, 'ordergraph_graphql_active_subscriptions');
      let held = 0;
      idle = await runIdleRamp(
        {
          server: ordergraph,
          connect: async (count) => {
            const seconds = await connect(url, count, token, true);
            held += count;
            await until(async () => (await subscribedNow()) >= held, 120_000, `${held} subscribed sockets`);
            return seconds;
          },
          subscribed: subscribedNow,
          log,
        },
        { target: idleTarget, step: idleStep, holdSeconds: idleHoldSeconds, sourceAddresses },
      );
      await disconnect();
      await until(drainedOrdergraph, 300_000, 'idle sockets to close');
    }

    const partial = {
      date: new Date().toISOString(),
      database: database ? ('postgresql' as const) : ('pglite' as const),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}`,
      settings: { repeats, events, rate, clientProcesses, drainMs, ordergraphRoot },
      sizes: results,
      ...(idle ? { idle } : {}),
      seconds: (performance.now() - started) / 1_000,
    };
    const markdown = renderSubscriptionSection(partial);
    const result: SubscriptionBenchResult = { ...partial, markdown };
    if (options.writeReport ?? process.env.BENCH_SUBS_WRITE_REPORT !== 'false') {
      await mkdir(new URL('./results/raw/', import.meta.url), { recursive: true });
      const raw = new URL(`./results/raw/subscriptions-${result.date.replaceAll(':', '-')}.json`, import.meta.url);
      await writeFile(raw, `${JSON.stringify(result, null, 2)}\n`);
      await writeSection(markdown);
      await writeFile(new URL('./results/subscriptions.svg', import.meta.url), renderSubscriptionChart(chartInput(result)));
      log(`raw results: ${fileURLToPath(raw)}; bench/RESULTS.md section "## Subscriptions" and bench/results/subscriptions.svg updated`);
    }
    return result;
  } finally {
    await cleanup();
  }
}

/** The figures bench/results/subscriptions.svg shows. */
function chartInput(result: Omit<SubscriptionBenchResult, 'markdown'>): ChartInput {
  const side = (rounds: readonly LatencyRound[], memory: readonly MemoryRound[]) => ({
    p99: rounds.map((r) => r.p99),
    cpuMs: rounds.map((r) => r.serverCpuMsPerEvent),
    rssKb: memory.map((m) => m.rssPerSocket / 1024),
  });
  const { idle } = result;
  return {
    date: result.date,
    sizes: result.sizes.map((size) => ({ subscribers: size.subscribers, ordergraph: side(size.latency, size.memory.ordergraph), bare: side(size.bareLatency, size.memory.bareWs) })),
    ...(idle
      ? { ramp: { target: idle.target, points: [{ sockets: 0, rssMb: idle.baseline.rss / 2 ** 20 }, ...idle.steps.map((step) => ({ sockets: step.sockets, rssMb: step.memory.rss / 2 ** 20 }))] } }
      : {}),
  };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)}`;
const spread = (values: readonly number[], format: (v: number) => string) =>
  values.length > 1 ? `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})` : format(values[0] ?? NaN);

/** The markdown section for bench/RESULTS.md: medians over the repeats with their spread (min–max). */
export function renderSubscriptionSection(result: Omit<SubscriptionBenchResult, 'markdown'>): string {
  const ms = (v: number) => v.toFixed(1);
  const x = (v: number) => `${v.toFixed(2)}×`;
  const { settings } = result;
  const lines = [
    '## Subscriptions',
    '',
    `_Latest run: ${result.date}, ${(result.seconds / 60).toFixed(1)} min; raw figures: \`bench/results/raw/subscriptions-*.json\`._`,
    '',
    `**Command**: \`npm run bench:subscriptions\` (bench/subscriptions.ts; also run at the end of \`npm run bench\`; knobs in its header). ` +
      `**Machine**: ${result.machine}; ${result.database === 'postgresql' ? 'PostgreSQL' : 'embedded PGlite'}; clients, servers and database share the two cores.`,
    '',
    `**Method**: one Ordergraph instance started as in production (\`node --import …/register.ts src/main.ts\`, NODE_ENV=production, tracing on and exporting nowhere, LOG_LEVEL=warn, RATE_LIMITS=false). ` +
      `N raw \`ws\` clients in ${settings.clientProcesses} process${settings.clientProcesses === 1 ? '' : 'es'} speak graphql-transport-ws: connection_init with an admin token, then \`orderStatusChanged\` without orderId (every order), ` +
      'selecting `version from to at order { id number status total { amount currency } }`: every change reaches every socket, the worst case for the fan-out. ' +
      `Per size, ${settings.repeats} repeats of: the bare \`ws\` server (same socket options) takes N sockets (memory), then broadcasts ${settings.events} messages of the same shape at ${settings.rate}/s (the floor: one \`send\` per socket); ` +
      `then Ordergraph takes N subscribed sockets (memory), then ${settings.events} status changes (updateOrderStatus SHIPPED / DELIVERED as admin) at ${settings.rate}/s. ` +
      'Every client uses operation id `1`, as the bare server addresses its message, so one serialised frame goes to every socket of the cohort (src/graphql/shared-frames.ts; with distinct ids each socket gets the same payload text under its own id). ' +
      "Latency = client receive time − the change's status-history `at` (its commit time; one clock). Figures: median over the repeats (min–max).",
    '',
    '![p99, CPU per change and memory per idle socket, Ordergraph and bare ws](results/subscriptions.svg)',
    '',
    '| Subscribers | | p50 (ms) | p99 (ms) | time to last subscriber, median event (ms) | worst event (ms) | first delivery, median event (ms) | delivered / expected | errors |',
    '|---:|:---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const row = (label: string, subscribers: number, l: readonly LatencyRound[]) =>
    `| ${subscribers.toLocaleString('en')} | ${label} | ${spread(l.map((r) => r.p50), ms)} | ${spread(l.map((r) => r.p99), ms)} | ${spread(l.map((r) => r.timeToLast.median), ms)} | ${spread(l.map((r) => r.timeToLast.max), ms)} | ` +
    `${spread(l.map((r) => r.firstDelivery), ms)} | ${l.reduce((n, r) => n + r.delivered, 0).toLocaleString('en')} / ${l.reduce((n, r) => n + r.expected, 0).toLocaleString('en')} | ${l.reduce((n, r) => n + r.errors + r.failedChanges, 0)} |`;
  for (const size of result.sizes) {
    lines.push(row('Ordergraph', size.subscribers, size.latency), row('bare ws', size.subscribers, size.bareLatency));
    const ratio = (pick: (r: LatencyRound) => number) => size.latency.map((r, i) => pick(r) / pick(size.bareLatency[i] ?? r));
    lines.push(`| ${size.subscribers.toLocaleString('en')} | Ordergraph / bare | ${spread(ratio((r) => r.p50), x)} | ${spread(ratio((r) => r.p99), x)} | ${spread(ratio((r) => r.timeToLast.median), x)} | ${spread(ratio((r) => r.timeToLast.max), x)} | | | |`);
  }
  lines.push(
    '',
    'Targets (issue 14): p99 at 10,000 subscribers ≤ 1.5× the bare server in the same repeat (the ratio of each repeat; median and spread over the repeats). ' +
      "CPU per change: the server process's CPU time (user + system, `process.cpuUsage()` through the inspector) from a round's first change until its last delivery, divided by its changes: " +
      "for Ordergraph the mutation, the order log read and the fan-out; for the bare server one broadcast. The generator's is that of the client processes in the same window (they share the cores).",
    '',
    '| Subscribers | target: p99 ≤ 1.5× bare | p99 ratio | Ordergraph CPU per change (ms) | bare ws CPU per broadcast (ms) | CPU ratio | generator CPU per change, Ordergraph / bare round (ms) | Ordergraph publish lag, mean (ms) |',
    '|---:|:---|---:|---:|---:|---:|---:|---:|',
  );
  for (const size of result.sizes) {
    const ratios = size.latency.map((r, i) => r.p99 / (size.bareLatency[i]?.p99 ?? NaN));
    const cpu = (l: readonly LatencyRound[]) => l.map((r) => r.serverCpuMsPerEvent);
    const cpuRatios = size.latency.map((r, i) => r.serverCpuMsPerEvent / (size.bareLatency[i]?.serverCpuMsPerEvent ?? NaN));
    const generator = (l: readonly LatencyRound[]) => spread(l.map((r) => r.generatorCpuMsPerEvent), ms);
    lines.push(
      `| ${size.subscribers.toLocaleString('en')} | ${size.subscribers !== 10_000 ? '—' : median(ratios) <= 1.5 ? 'met' : 'missed'} | ${spread(ratios, x)} | ${spread(cpu(size.latency), ms)} | ${spread(cpu(size.bareLatency), ms)} | ${spread(cpuRatios, x)} | ` +
        `${generator(size.latency)} / ${generator(size.bareLatency)} | ${spread(size.latency.map((r) => r.publishLagMs ?? NaN), ms)} |`,
    );
  }
  lines.push(
    '',
    'Memory per idle subscribed socket: (server memory with N sockets − just before they connected) / N, each read after two forced full GCs through the inspector; the bare `ws` server holds the same N sockets, measured the same way in the same repeat. Target: ≤ 20 KB (Ordergraph RSS; issue 14).',
    '',
    '| Sockets | Ordergraph RSS (KB) | Ordergraph heap (KB) | bare ws RSS (KB) | bare ws heap (KB) | Ordergraph − bare, RSS (KB) | target ≤ 20 KB | connect + subscribe N (s) |',
    '|---:|---:|---:|---:|---:|---:|:---|---:|',
  );
  for (const size of result.sizes) {
    const og = size.memory.ordergraph;
    const bare = size.memory.bareWs;
    const diff = og.map((r, i) => r.rssPerSocket - (bare[i]?.rssPerSocket ?? NaN));
    lines.push(
      `| ${size.subscribers.toLocaleString('en')} | ${spread(og.map((r) => r.rssPerSocket), kb)} | ${spread(og.map((r) => r.heapPerSocket), kb)} | ${spread(bare.map((r) => r.rssPerSocket), kb)} | ${spread(bare.map((r) => r.heapPerSocket), kb)} | ${spread(diff, kb)} | ` +
        `${median(og.map((r) => r.rssPerSocket)) <= 20 * 1024 ? 'met' : 'missed'} | ${spread(og.map((r) => r.connectSeconds), (v) => v.toFixed(1))} |`,
    );
  }
  if (result.idle) lines.push(...renderIdleRamp(result.idle));
  lines.push('');
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // SIGINT/SIGTERM (to this process or to `npm run bench:subscriptions`) also stop its servers and client workers.
  stopChildrenOnSignals();
  // The ramp adds about 3 minutes per 10,000 sockets (handshakes, GCs of a large heap, the hold).
  const minutes = 15 + 3 * Math.ceil(Number(process.env.BENCH_SUBS_IDLE ?? 0) / 10_000);
  const timer = setTimeout(() => {
    console.error(`bench:subscriptions: gave up after ${minutes} minutes`);
    process.exit(1);
  }, minutes * 60_000);
  timer.unref();
  try {
    await runSubscriptionBench();
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
}
