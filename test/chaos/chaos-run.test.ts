import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_RESTART_CLOSE_CODE, SLOW_CONSUMER_CLOSE_CODE } from '../../src/graphql/ws-lifecycle.ts';
import { eventually } from '../support/eventually.ts';
import { createChaosDatabase, startCluster, type ChaosDatabase, type Cluster } from './support/cluster.ts';
import { readOrderLog } from './support/order-log.ts';
import { scrapeServerFigures, watchResources, type ResourceUse, type ServerFigures } from './support/resources.ts';
import { Subscriber, type Scope, type Transport } from './support/subscribers.ts';
import { judge, type Verdict } from './support/verdict.ts';
import { adminAccount, cheapProducts, createWriters, signUpCustomers, uuidOf, type Account, type OrderTask, type WriterProblems } from './support/writers.ts';

// The chaos run of issue 14 (ADR 0012), bounded, on loopback: 3 gateway processes on one fresh
// PostgreSQL database and one private Redis; 300+ clients (one order or all orders; graphql-ws and
// SSE; admins and customers) spread over the instances; writers making ≥ 2,000 status changes
// through GraphQL while the harness restarts Redis, SIGKILLs an instance (and starts it again) and
// cuts every client connection every 15 s. Each client resumes from what it received.
// Pass: every committed change (the order log, read from the database at the end) reached every
// client that may see it, in per-order version order, none twice after the documented dedupe by
// (orderId, version), and every connection end is one the harness caused or a documented close.
// Figures (commit → client lag, replay time) go to test-results/chaos-run.json.

/** The database server: CI's PostgreSQL (TEST_DATABASE_URL); three processes cannot share the embedded one. */
const ADMIN_URL = process.env.TEST_DATABASE_URL;
const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
// Under CI both are there (.ci/run) and nothing may be skipped; elsewhere the run needs them.
const describeChaos = process.env.CI || (ADMIN_URL && hasRedisServer) ? describe : describe.skip;
if (!process.env.CI && !(ADMIN_URL && hasRedisServer)) console.warn('chaos run skipped: it needs TEST_DATABASE_URL (a real PostgreSQL) and redis-server (it runs under CI)');

const INSTANCES = 3;
/** Status changes the stream must reach after the baseline. */
const MIN_CHANGES = 2_000;
/** Orders placed before the clients subscribe: the per-order clients follow them. */
const FOLLOWED_ORDERS = 150;
const CUSTOMERS = 12;
const ADMIN_ALL_ORDERS_CLIENTS = 16;
const CUSTOMER_ALL_ORDERS_CLIENTS_EACH = 7;
const PER_ORDER_CLIENTS = 220;
const WRITERS = 8;
/**
 * Mutations started per second at most, all writers together (~1.35 changes each: a placed order
 * commits 2, a move 1): ~50 changes/s, so the stream passes 2,000 changes inside its 48 s while the
 * machine keeps headroom for the clients' reconnects; a slower machine just writes as fast as it can.
 */
const MUTATIONS_PER_SECOND = 37;
/** Chaos schedule, ms after the stream starts (a fixed schedule for the harness's own actions). */
const REDIS_RESTART_AT = 8_000;
const REDIS_DOWN_MS = 3_000;
const KILL_AT = 22_000;
const FORCE_CLOSE_EVERY = 15_000;
/** The stream runs at least this long (three cuts, the Redis restart and the kill inside it)… */
const MIN_STREAM_MS = 48_000;
/** …and fails if it has not committed MIN_CHANGES by then. */
const STREAM_DEADLINE_MS = 100_000;
/** After the writers stop: how long the clients get to receive every committed change. */
const DRAIN_DEADLINE_MS = 45_000;
const RESULTS_FILE = fileURLToPath(new URL('../../test-results/chaos-run.json', import.meta.url));

/** Every instance's environment: short timed log reads, and settings that keep a 2-core run bounded. */
const INSTANCE_ENV: Record<string, string> = {
  LOG_LEVEL: 'warn',
  DB_POOL_MAX: '8',
  OTEL_SDK_DISABLED: 'true',
  // 300+ clients share 127.0.0.1, and a killed instance's clients move to the other two.
  WS_MAX_SOCKETS_PER_ADDRESS: '10000',
  // The log's timed read (ADR 0012): what delivers while Redis, the doorbell, is down.
  ORDER_LOG_POLL_MS: '200',
  // Orders whose placeOrder died with its instance are settled by another instance's reconciler.
  RECONCILER_INTERVAL_MS: '1000',
  RECONCILER_GRACE_MS: '3000',
  PAYMENT_TIMEOUT_MS: '2000',
  SHUTDOWN_GRACE_MS: '2000',
};

const DOCUMENTED_CLOSES = new Map<number, string>([
  [SERVICE_RESTART_CLOSE_CODE, 'service restart (drain on SIGTERM)'],
  [SLOW_CONSUMER_CLOSE_CODE, 'slow consumer (send buffer full)'],
]);

/** Resolves after `ms`; rejects at once when `signal` aborts (the chaos schedule is called off). */
const sleep = (ms: number, signal?: AbortSignal) => delay(ms, undefined, signal ? { signal } : {});
const started = Date.now();
/** A line of progress, so a run that fails shows how far it got. */
const progress = (message: string) => console.info(`[chaos +${((Date.now() - started) / 1_000).toFixed(1)} s] ${message}`);

let db: ChaosDatabase | undefined;
let cluster: Cluster | undefined;
const subscribers: Subscriber[] = [];

afterAll(async () => {
  await Promise.all(subscribers.map((s) => s.stop()));
  await cluster?.stop();
  await db?.close();
}, 60_000);

/** The cursor of the admin's all-orders stream once the followed orders' changes have reached it: where the all-orders clients start. */
async function baselineAfter(activeCluster: Cluster, admin: Account, place: () => Promise<OrderTask[]>): Promise<{ cursor: string; key: string; tasks: OrderTask[] }> {
  const probe = new Subscriber(-1, 'ws', { kind: 'all', viewer: 'admin' }, admin.token, undefined);
  probe.start(activeCluster);
  try {
    await eventually(
      async () => {
        const instance = activeCluster.instances[probe.connections.at(-1)?.instance ?? 0]!;
        const metrics = await (await fetch(new URL('/metrics', instance.url))).text();
        return probe.open && /^ordergraph_graphql_active_subscriptions [1-9]/m.test(metrics);
      },
      { timeoutMs: 20_000, intervalMs: 50, what: 'the probe subscription to be active' },
    );
    const tasks = await place();
    await eventually(() => probe.deliveries.length >= tasks.length * 2, { timeoutMs: 30_000, intervalMs: 50, what: `the ${tasks.length * 2} changes of the followed orders on the probe` });
    const last = probe.deliveries.at(-1)!;
    if (!last.cursor) throw new Error('events carry no cursor (orderStatusChanged.cursor / extensions.cursor)');
    return { cursor: last.cursor, key: `${last.orderId}:${last.version}`, tasks };
  } finally {
    await probe.stop();
  }
}

/** The clients: all orders as the admin and as each customer, one order as its owner (every 5th as the admin). */
function createSubscribers(admin: Account, customers: readonly Account[], followed: readonly OrderTask[], baseline: string): Subscriber[] {
  const created: Subscriber[] = [];
  const add = (transport: Transport, scope: Scope, token: string) => created.push(new Subscriber(created.length, transport, scope, token, scope.kind === 'all' ? baseline : undefined));
  const transport = (i: number): Transport => (i % 2 === 0 ? 'ws' : 'sse');
  for (let i = 0; i < ADMIN_ALL_ORDERS_CLIENTS; i += 1) add(transport(i), { kind: 'all', viewer: 'admin' }, admin.token);
  customers.forEach((customer, c) => {
    for (let i = 0; i < CUSTOMER_ALL_ORDERS_CLIENTS_EACH; i += 1) add(transport(c + i), { kind: 'all', viewer: { customerId: customer.customerId } }, customer.token);
  });
  for (let i = 0; i < PER_ORDER_CLIENTS; i += 1) {
    const task = followed[i % followed.length]!;
    add(transport(i + Math.floor(i / followed.length)), { kind: 'order', orderId: uuidOf(task.orderId), globalId: task.orderId }, i % 5 === 4 ? admin.token : task.owner.token);
  }
  return created;
}

/**
 * Runs writer loops until `stop` says so: customers place orders, the admin (and owners) move them
 * on, at most {@link MUTATIONS_PER_SECOND} mutations started per second.
 */
async function write(writers: ReturnType<typeof createWriters>, customers: readonly Account[], queue: OrderTask[], problems: WriterProblems, stop: () => boolean): Promise<void> {
  const start = Date.now();
  let issued = 0;
  const loop = async () => {
    while (!stop()) {
      // The writers' pace: a fixed schedule of the load, not a wait for something to happen.
      const slot = start + (issued++ * 1_000) / MUTATIONS_PER_SECOND;
      if (slot > Date.now()) await sleep(slot - Date.now());
      try {
        if (queue.length > 0 && Math.random() < 0.65) {
          const [task] = queue.splice(Math.floor(Math.random() * queue.length), 1);
          if (task && (await writers.advance(task))) queue.push(task);
        } else {
          const task = await writers.place(customers[Math.floor(Math.random() * customers.length)]!);
          if (task) queue.push(task);
        }
      } catch (error) {
        problems.unexpected.push(`writer: ${String(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, loop));
}

const countLog = async (database: ChaosDatabase) => Number((await database.pool.query<{ n: string }>('select count(*) as n from outbox')).rows[0]!.n);

/** Prints the figures and writes them, with what the run did, to test-results/chaos-run.json. */
async function report(verdict: Verdict, resources: ResourceUse, server: ServerFigures, details: Record<string, unknown>): Promise<void> {
  const figures = {
    at: new Date().toISOString(),
    passed: verdict.passed,
    ...details,
    resources,
    server,
    clients: verdict.clients,
    changesInStream: verdict.changesInStream,
    deliveries: { expected: verdict.expectedDeliveries, delivered: verdict.deliveredExpected, repeatsDroppedByDedupe: verdict.repeatsDropped },
    lagMs: verdict.lagMs,
    replayFirstMs: verdict.replayFirstMs,
    replayCaughtUpMs: verdict.replayCaughtUpMs,
    reconnects: verdict.reconnects,
    byKind: verdict.byKind,
    lagOverTime: verdict.lagOverTime,
    closes: verdict.closes.byCause,
    unexplainedCloses: verdict.closes.unexplained.slice(0, 50),
    failedClients: verdict.failures.length,
    failures: verdict.failures.slice(0, 30),
  };
  await mkdir(dirname(RESULTS_FILE), { recursive: true });
  await writeFile(RESULTS_FILE, `${JSON.stringify(figures, null, 2)}\n`);
  const ms = (v: number | null) => (v === null ? 'n/a' : `${Math.round(v)} ms`);
  console.info(
    [
      `chaos run ${verdict.passed ? 'PASSED' : 'FAILED'}: ${verdict.changesInStream} changes in the stream, ${verdict.clients} clients, ${verdict.deliveredExpected}/${verdict.expectedDeliveries} expected deliveries, ${verdict.repeatsDropped} repeats dropped by the dedupe`,
      `  outbox → client lag: p50 ${ms(verdict.lagMs.p50)}, p99 ${ms(verdict.lagMs.p99)}, max ${ms(verdict.lagMs.max)} (n=${verdict.lagMs.n})`,
      `  replay after reconnect: first event p99 ${ms(verdict.replayFirstMs.p99)} (p50 ${ms(verdict.replayFirstMs.p50)}), caught up p99 ${ms(verdict.replayCaughtUpMs.p99)} (p50 ${ms(verdict.replayCaughtUpMs.p50)}); ${verdict.reconnects.withReplay}/${verdict.reconnects.total} reconnects had changes to replay`,
      `  connection ends: ${JSON.stringify(verdict.closes.byCause)}; unexplained: ${verdict.closes.unexplained.length}; clients failing: ${verdict.failures.length}`,
      ...Object.entries(verdict.byKind).map(
        ([kind, k]) => `  ${kind}: ${k.clients} clients, lag p50 ${ms(k.lagMs.p50)} p99 ${ms(k.lagMs.p99)}, caught up after reconnect p99 ${ms(k.replayCaughtUpMs.p99)}, ${k.repeatsDropped} repeats dropped`,
      ),
      `  server side: change written → read by an instance's log reader p50 ≤ ${ms(server.logReadLagMs.p50AtMost)}, p99 ≤ ${ms(server.logReadLagMs.p99AtMost)}; log reads ${JSON.stringify(server.logReads)}`,
      `  stream: machine CPU ${Math.round(resources.machineBusy * 100)} % busy; harness event-loop delay p99 ${resources.harnessLoopDelayMs.p99} ms; CPU s ${JSON.stringify(resources.cpuSeconds)}`,
      `  written to ${RESULTS_FILE}`,
    ].join('\n'),
  );
}

/**
 * The chaos, on a fixed schedule from `streamStart`: Redis restarted once, instance 1 SIGKILLed
 * and started again (on the side, so the cuts keep their schedule while it boots), every client
 * connection cut every {@link FORCE_CLOSE_EVERY} ms until `stop()`. `failed` aborts, with the
 * reason, when the killed instance does not come back.
 */
function startChaos(activeCluster: Cluster, streamStart: number, note: (action: string) => void) {
  const over = new AbortController();
  const failed = new AbortController();
  let restarted = false;
  let restarting: Promise<void> = Promise.resolve();
  const until = (at: number) => sleep(Math.max(0, streamStart + at - Date.now()), over.signal);
  const schedule = (async () => {
    await until(REDIS_RESTART_AT);
    note('Redis stopped');
    await activeCluster.restartRedis(REDIS_DOWN_MS);
    note('Redis started');
    let killed = false;
    for (let at = FORCE_CLOSE_EVERY; ; at += FORCE_CLOSE_EVERY) {
      if (!killed && at > KILL_AT) {
        killed = true;
        await until(KILL_AT);
        note('instance 1 SIGKILLed');
        restarting = activeCluster
          .kill(1)
          .then(() => activeCluster.start(1))
          .then(() => {
            restarted = true;
            note('instance 1 started again and ready');
          })
          .catch((error: unknown) => failed.abort(new Error(`instance 1 did not come back after its SIGKILL: ${String(error)}`)));
      }
      await until(at);
      note('every client connection cut');
      for (const s of subscribers) s.forceClose();
    }
  })().catch((error: unknown) => {
    if (!over.signal.aborted) failed.abort(error);
  });
  return {
    failed: failed.signal,
    restarted: () => restarted,
    async stop() {
      over.abort();
      await schedule;
      await restarting;
    },
  };
}

describeChaos('chaos run: 3 instances, one PostgreSQL, one Redis, 300+ resuming clients', () => {
  beforeAll(async () => {
    db = await createChaosDatabase(ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
    cluster = await startCluster(db.url, INSTANCES, INSTANCE_ENV);
    progress(`${INSTANCES} instances ready`);
  }, 90_000);

  it('delivers every committed change to every client that may see it, in order, once, through a Redis restart, a SIGKILL and cuts every 15 s', async () => {
    const activeCluster = cluster!;
    const database = db!;
    const problems: WriterProblems = { unexpected: [], transportRetries: 0 };
    const admin = await adminAccount(activeCluster, problems);
    const customers = await signUpCustomers(activeCluster, CUSTOMERS, problems);
    const products = await cheapProducts(activeCluster, problems);
    const writers = createWriters(activeCluster, admin, products, problems);
    progress(`admin and ${customers.length} customers signed in, ${products.length} products`);

    // The followed orders, placed while a probe listens: its last cursor is the baseline.
    const placeFollowed = async () => {
      const tasks: OrderTask[] = [];
      let attempts = 0;
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          while (tasks.length < FOLLOWED_ORDERS) {
            if ((attempts += 1) > FOLLOWED_ORDERS * 2) throw new Error(`placing the followed orders failed: ${problems.unexpected.slice(0, 5).join('; ')}`);
            const task = await writers.place(customers[tasks.length % customers.length]!);
            if (task) tasks.push(task);
          }
        }),
      );
      progress(`${tasks.length} followed orders placed`);
      return tasks;
    };
    const baseline = await baselineAfter(activeCluster, admin, placeFollowed);
    subscribers.push(...createSubscribers(admin, customers, baseline.tasks, baseline.cursor));
    for (const subscriber of subscribers) subscriber.start(activeCluster);
    await eventually(() => subscribers.every((s) => s.open), { timeoutMs: 30_000, intervalMs: 100, what: `all ${subscribers.length} clients to be connected` });
    const changesAtBaseline = await countLog(database);
    progress(`${subscribers.length} clients connected; the stream starts`);

    // The stream, and the chaos on its fixed schedule.
    const streamStart = Date.now();
    const resources = watchResources();
    const gatewayPids = () => Object.fromEntries(activeCluster.instances.map((i) => [`instance ${i.index} (generation ${i.generation})`, i.gateway?.child.pid]));
    const cpuAtStart = Object.fromEntries(Object.entries(gatewayPids()).map(([name, pid]) => [name, resources.cpuOf(pid)]));
    let stopWriting = false;
    const queue = [...baseline.tasks];
    let committed = 0;
    const writing = write(writers, customers, queue, problems, () => stopWriting);
    const chaosLog: { at: number; action: string }[] = [];
    const note = (action: string) => {
      chaosLog.push({ at: Date.now() - streamStart, action });
      progress(`${action} (${committed} changes so far)`);
    };
    const chaos = startChaos(activeCluster, streamStart, note);

    try {
      await eventually(
        async () => {
          committed = (await countLog(database)) - changesAtBaseline;
          return Date.now() - streamStart >= MIN_STREAM_MS && chaos.restarted() && committed >= MIN_CHANGES;
        },
        { timeoutMs: STREAM_DEADLINE_MS, intervalMs: 500, what: `${MIN_CHANGES} committed changes with the chaos schedule done`, signal: chaos.failed },
      );
    } finally {
      stopWriting = true;
      await writing;
      await chaos.stop();
    }
    const streamMs = Date.now() - streamStart;
    const used = resources.stop(gatewayPids(), cpuAtStart);
    const server = await scrapeServerFigures(activeCluster.instances.filter((i) => i.routable).map((i) => new URL(i.url).origin));
    progress(`writers stopped: ${committed} changes committed in ${streamMs} ms; draining`);

    // Drain: every committed change reaches every client that may see it (orders whose payment
    // died with an instance are settled by a reconciler meanwhile: the log is read again each try).
    const drainStart = Date.now();
    const complete = async () => {
      const log = await readOrderLog(database.pool);
      const pending = Number((await database.pool.query<{ n: string }>("select count(*) as n from orders where status = 'PENDING'")).rows[0]!.n);
      const baselineIndex = log.indexOf.get(baseline.key) ?? -1;
      const verdict = judge({ log: log.rows, baselineIndex, subscribers, kills: activeCluster.kills, documentedCloseCodes: DOCUMENTED_CLOSES });
      return pending === 0 && verdict.deliveredExpected === verdict.expectedDeliveries;
    };
    const drained = await eventually(complete, { timeoutMs: DRAIN_DEADLINE_MS, intervalMs: 500, what: 'every committed change at every client' }).then(
      () => true,
      () => false,
    );
    const drainMs = Date.now() - drainStart;
    progress(drained ? `every client complete after ${drainMs} ms` : `not every client complete after ${drainMs} ms`);
    await Promise.all(subscribers.map((s) => s.stop()));

    const log = await readOrderLog(database.pool);
    const baselineIndex = log.indexOf.get(baseline.key) ?? -1;
    const verdict = judge({ log: log.rows, baselineIndex, subscribers, kills: activeCluster.kills, documentedCloseCodes: DOCUMENTED_CLOSES, lagWindows: { origin: streamStart, windowMs: 5_000 } });
    await report(verdict, used, server, {
      instances: INSTANCES,
      streamMs,
      drainMs,
      drained,
      chaos: chaosLog,
      log: { rows: log.rows.length, baselineIndex, historyWithoutLogRow: log.unmatched.historyOnly, logRowWithoutHistory: log.unmatched.logOnly },
      writers: { unexpected: problems.unexpected.slice(0, 20), transportRetries: problems.transportRetries },
    });

    expect(baselineIndex, 'the baseline event is a row of the log').toBeGreaterThanOrEqual(0);
    expect(verdict.changesInStream).toBeGreaterThanOrEqual(MIN_CHANGES);
    expect(log.unmatched, 'every history entry has its log row and the other way round').toEqual({ historyOnly: 0, logOnly: 0 });
    expect(problems.unexpected, 'answers the writers did not expect').toEqual([]);
    expect(verdict.closes.unexplained.slice(0, 10), `${verdict.closes.unexplained.length} connection ends neither the harness nor a documented close code explains (first 10)`).toEqual([]);
    // Resuming from a cursor (or afterVersion, or Last-Event-ID) replays exactly what a client
    // missed: nothing arrives twice on the wire, so the documented dedupe never has work to do.
    expect(verdict.repeatsDropped, 'changes a client received twice (resume must replay only what it missed)').toBe(0);
    expect(verdict.failures.slice(0, 10), `${verdict.failures.length} clients missed, reordered or received changes they should not (first 10)`).toEqual([]);
  }, 200_000);
});
