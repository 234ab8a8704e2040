import type { ConnectionRecord, SubscriberRecord } from './subscribers.ts';

// The chaos run's verdict, computed from what the database committed (the order log, read at the
// end) and what each client received. Pure: the test feeds it, test/chaos/verdict.test.ts proves
// it catches each kind of failure on hand-made inputs.

/** One committed status change, as the log (the outbox) holds it at the end. */
export interface LogRow {
  readonly orderId: string;
  readonly customerId: string;
  readonly version: number;
  /** When the row was written (the outbox's created_at), epoch ms. */
  readonly createdAt: number;
}

/** A SIGKILL the harness sent. */
export interface KillRecord {
  readonly index: number;
  readonly generation: number;
  readonly at: number;
}

/** What the verdict needs besides the clients. */
export interface VerdictInput {
  /** Every committed change, in log order. */
  readonly log: readonly LogRow[];
  /** Index in `log` of the row the all-orders streams start after (their first `after` cursor). */
  readonly baselineIndex: number;
  readonly subscribers: readonly SubscriberRecord[];
  readonly kills: readonly KillRecord[];
  /** Close codes the server documents (1012 on restart, the slow-consumer code), with what they mean. */
  readonly documentedCloseCodes: ReadonlyMap<number, string>;
  /** Start of the stream (epoch ms) and the window of {@link Verdict.lagOverTime}; default: the first row after the baseline, 5 s. */
  readonly lagWindows?: { readonly origin: number; readonly windowMs: number };
}

/** What went wrong for one client; every count 0 when it got exactly its changes. */
export interface ClientFailure {
  readonly id: number;
  readonly stream: string;
  /** Committed changes it should have seen and never received. */
  readonly missing: number;
  /** Changes received after a later version of the same order (after dedupe). */
  readonly outOfOrder: number;
  /** Changes received that it should not see (another customer's, before its start, never committed). */
  readonly unexpected: number;
  readonly anomalies: number;
  /** A few examples, for the failure message. */
  readonly examples: readonly string[];
}

/** Nearest-rank percentiles of a sample, in ms. */
export interface Distribution {
  readonly n: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

/** The outcome of a run. */
export interface Verdict {
  readonly clients: number;
  /** Committed changes after the baseline (the stream the chaos ran over). */
  readonly changesInStream: number;
  /** Deliveries the clients should have received (each client × the changes it may see). */
  readonly expectedDeliveries: number;
  /** Distinct deliveries received (after the dedupe) that were expected. */
  readonly deliveredExpected: number;
  /** Repeats on the wire that the documented dedupe by (orderId, version) dropped. */
  readonly repeatsDropped: number;
  readonly failures: readonly ClientFailure[];
  /** Connection ends by cause (explained ones), and the unexplained ones in full. */
  readonly closes: { readonly byCause: Readonly<Record<string, number>>; readonly unexplained: readonly string[] };
  /** Commit (outbox row written) → received, for changes written while the client was connected. */
  readonly lagMs: Distribution;
  /** Reconnect (connection started) → first replayed change, for reconnects that had missed some. */
  readonly replayFirstMs: Distribution;
  /** Reconnect → every missed change received (caught up). */
  readonly replayCaughtUpMs: Distribution;
  /** Reconnects in all, and those that had changes to replay. */
  readonly reconnects: { readonly total: number; readonly withReplay: number; readonly interrupted: number };
  /** The same figures per kind of client (transport and stream), to tell where a slow tail comes from. */
  readonly byKind: Readonly<Record<string, { readonly clients: number; readonly repeatsDropped: number; readonly lagMs: Distribution; readonly replayCaughtUpMs: Distribution }>>;
  /** Lag by when the change was written: p50/p99 per window of `windowMs` from `origin` (keys: window start, s). */
  readonly lagOverTime: Readonly<Record<string, Distribution>>;
  readonly passed: boolean;
}

/** Nearest-rank percentile of sorted `values`. */
function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null };
}

const keyOf = (orderId: string, version: number) => `${orderId}:${version}`;

/** The log rows a client should receive, in log order. */
function expectedRows(subscriber: SubscriberRecord, log: readonly LogRow[], baselineIndex: number): LogRow[] {
  const { scope } = subscriber;
  if (scope.kind === 'order') return log.filter((row) => row.orderId === scope.orderId);
  const after = log.slice(baselineIndex + 1);
  const { viewer } = scope;
  return viewer === 'admin' ? after : after.filter((row) => row.customerId === viewer.customerId);
}

/** Why a connection ended, when the harness or a documented server close explains it. */
export function explainEnd(connection: ConnectionRecord, kills: readonly KillRecord[], documented: ReadonlyMap<number, string>): string | undefined {
  if (connection.cause === 'harness-close') return 'cut by the harness (every 15 s)';
  if (connection.cause === 'harness-stop') return 'stopped by the harness (end of run)';
  const killed = kills.find((k) => k.index === connection.instance && k.generation === connection.generation);
  if (killed && killed.at <= (connection.endedAt ?? Infinity)) return 'its instance was SIGKILLed';
  const code = connection.end?.code;
  if (code !== undefined && connection.end?.kind === 'closed' && documented.has(code)) return `${code} ${documented.get(code)}`;
  return undefined;
}

/** A client's kind: transport, stream and viewer (e.g. 'sse all orders (admin)'). */
export const kindOf = (s: SubscriberRecord) =>
  `${s.transport} ${s.scope.kind === 'order' ? 'one order' : s.scope.viewer === 'admin' ? 'all orders (admin)' : 'all orders (customer)'}`;

const describeStream = (s: SubscriberRecord) => `${s.transport} ${s.scope.kind === 'order' ? `order ${s.scope.orderId}` : `all orders as ${s.scope.viewer === 'admin' ? 'admin' : `customer ${s.scope.viewer.customerId}`}`}`;

interface ClientOutcome {
  failure: ClientFailure | undefined;
  expected: number;
  delivered: number;
  repeats: number;
  /** [createdAt, lag] of each live delivery. */
  lags: [number, number][];
  replayFirst: number[];
  replayCaughtUp: number[];
  reconnects: number;
  withReplay: number;
  interrupted: number;
}

/** Compares one client's deliveries with what it should have seen; collects its lags and replays. */
function judgeClient(subscriber: SubscriberRecord, log: readonly LogRow[], byKey: ReadonlyMap<string, LogRow>, baselineIndex: number): ClientOutcome {
  const expected = expectedRows(subscriber, log, baselineIndex);
  const expectedKeys = new Set(expected.map((row) => keyOf(row.orderId, row.version)));
  const firstSeen = new Map<string, { receivedAt: number; connection: number }>();
  const lastVersion = new Map<string, number>();
  const examples: string[] = [];
  let repeats = 0;
  let outOfOrder = 0;
  let unexpected = 0;
  const lags: [number, number][] = [];
  for (const delivery of subscriber.deliveries) {
    const key = keyOf(delivery.orderId, delivery.version);
    // The documented client dedupe: a change already received (same order and version) is dropped.
    if (firstSeen.has(key)) {
      repeats += 1;
      continue;
    }
    firstSeen.set(key, { receivedAt: delivery.receivedAt, connection: delivery.connection });
    if (!expectedKeys.has(key)) {
      unexpected += 1;
      if (examples.length < 5) examples.push(`unexpected ${key}${byKey.has(key) ? '' : ' (not in the log)'}`);
    }
    const previous = lastVersion.get(delivery.orderId) ?? 0;
    if (delivery.version < previous) {
      outOfOrder += 1;
      if (examples.length < 5) examples.push(`order ${delivery.orderId}: version ${delivery.version} after ${previous}`);
    } else lastVersion.set(delivery.orderId, delivery.version);
    const row = byKey.get(key);
    const connection = subscriber.connections[delivery.connection];
    if (row && connection?.openedAt !== undefined && row.createdAt >= connection.openedAt) lags.push([row.createdAt, delivery.receivedAt - row.createdAt]);
  }
  const missingRows = expected.filter((row) => !firstSeen.has(keyOf(row.orderId, row.version)));
  for (const row of missingRows.slice(0, Math.max(0, 5 - examples.length))) examples.push(`missing ${keyOf(row.orderId, row.version)}`);
  const replays = judgeReplays(subscriber, expected, firstSeen);
  const failed = missingRows.length > 0 || outOfOrder > 0 || unexpected > 0 || subscriber.anomalies.length > 0;
  if (subscriber.anomalies.length > 0) examples.push(...subscriber.anomalies.slice(0, 3));
  return {
    failure: failed
      ? { id: subscriber.id, stream: describeStream(subscriber), missing: missingRows.length, outOfOrder, unexpected, anomalies: subscriber.anomalies.length, examples }
      : undefined,
    expected: expected.length,
    delivered: expected.length - missingRows.length,
    repeats,
    lags,
    ...replays,
  };
}

/**
 * For each reconnect (every connection after the first that opened): the changes written before it
 * started and not received before, which it had to replay; how long until the first of them and
 * until all of them arrived on it.
 */
function judgeReplays(subscriber: SubscriberRecord, expected: readonly LogRow[], firstSeen: ReadonlyMap<string, { receivedAt: number; connection: number }>) {
  const replayFirst: number[] = [];
  const replayCaughtUp: number[] = [];
  let reconnects = 0;
  let withReplay = 0;
  let interrupted = 0;
  subscriber.connections.forEach((connection, index) => {
    if (index === 0 || connection.openedAt === undefined) return;
    reconnects += 1;
    const missed = expected.filter((row) => {
      if (row.createdAt >= connection.startedAt) return false;
      const seen = firstSeen.get(keyOf(row.orderId, row.version));
      return !seen || seen.receivedAt >= connection.startedAt;
    });
    if (missed.length === 0) return;
    withReplay += 1;
    const arrivals = missed.map((row) => firstSeen.get(keyOf(row.orderId, row.version))).filter((seen) => seen?.connection === index).map((seen) => seen!.receivedAt - connection.startedAt);
    if (arrivals.length > 0) replayFirst.push(Math.min(...arrivals));
    if (arrivals.length === missed.length) replayCaughtUp.push(Math.max(...arrivals));
    else interrupted += 1;
  });
  return { replayFirst, replayCaughtUp, reconnects, withReplay, interrupted };
}

/** Judges a run: every client against the log, every connection end against its causes. */
export function judge(input: VerdictInput): Verdict {
  const byKey = new Map(input.log.map((row) => [keyOf(row.orderId, row.version), row]));
  const outcomes = input.subscribers.map((s) => judgeClient(s, input.log, byKey, input.baselineIndex));
  const byCause: Record<string, number> = {};
  const unexplained: string[] = [];
  for (const subscriber of input.subscribers) {
    for (const connection of subscriber.connections) {
      if (!connection.end) continue;
      const cause = explainEnd(connection, input.kills, input.documentedCloseCodes);
      if (cause) byCause[cause] = (byCause[cause] ?? 0) + 1;
      else unexplained.push(`client ${subscriber.id} (${describeStream(subscriber)}) on instance ${connection.instance}: ${JSON.stringify(connection.end)}`);
    }
  }
  const failures = outcomes.flatMap((o) => (o.failure ? [o.failure] : []));
  const sum = (pick: (o: ClientOutcome) => number) => outcomes.reduce((total, o) => total + pick(o), 0);
  const kinds = new Map<string, ClientOutcome[]>();
  input.subscribers.forEach((s, i) => kinds.set(kindOf(s), [...(kinds.get(kindOf(s)) ?? []), outcomes[i]!]));
  const byKind = Object.fromEntries(
    [...kinds].map(([kind, of]) => [
      kind,
      {
        clients: of.length,
        repeatsDropped: of.reduce((total, o) => total + o.repeats, 0),
        lagMs: distribution(of.flatMap((o) => o.lags.map(([, lag]) => lag))),
        replayCaughtUpMs: distribution(of.flatMap((o) => o.replayCaughtUp)),
      },
    ]),
  );
  const { origin, windowMs } = input.lagWindows ?? { origin: input.log[input.baselineIndex + 1]?.createdAt ?? 0, windowMs: 5_000 };
  const windows = new Map<number, number[]>();
  for (const [createdAt, lag] of outcomes.flatMap((o) => o.lags)) {
    const start = Math.floor((createdAt - origin) / windowMs) * (windowMs / 1_000);
    const bucket = windows.get(start);
    if (bucket) bucket.push(lag);
    else windows.set(start, [lag]);
  }
  const lagOverTime = Object.fromEntries([...windows].sort(([a], [b]) => a - b).map(([start, lags]) => [String(start), distribution(lags)]));
  return {
    clients: input.subscribers.length,
    changesInStream: input.log.length - input.baselineIndex - 1,
    expectedDeliveries: sum((o) => o.expected),
    deliveredExpected: sum((o) => o.delivered),
    repeatsDropped: sum((o) => o.repeats),
    failures,
    closes: { byCause, unexplained },
    lagMs: distribution(outcomes.flatMap((o) => o.lags.map(([, lag]) => lag))),
    replayFirstMs: distribution(outcomes.flatMap((o) => o.replayFirst)),
    replayCaughtUpMs: distribution(outcomes.flatMap((o) => o.replayCaughtUp)),
    reconnects: { total: sum((o) => o.reconnects), withReplay: sum((o) => o.withReplay), interrupted: sum((o) => o.interrupted) },
    byKind,
    lagOverTime,
    passed: failures.length === 0 && unexplained.length === 0,
  };
}
