import { describe, expect, it } from 'vitest';
import type { ConnectionRecord, Delivery, Scope, SubscriberRecord } from './support/subscribers.ts';
import { distribution, judge, type LogRow, type VerdictInput } from './support/verdict.ts';

// The chaos run's verdict on hand-made runs: each kind of failure it must catch, caught alone.

const T = 1_000_000;
// Log order: A1 A2 B1 | baseline | A3 B2 A4 B3 (A: customer c1, B: customer c2).
const LOG: LogRow[] = [
  { orderId: 'A', customerId: 'c1', version: 1, createdAt: T },
  { orderId: 'A', customerId: 'c1', version: 2, createdAt: T + 10 },
  { orderId: 'B', customerId: 'c2', version: 1, createdAt: T + 20 },
  { orderId: 'A', customerId: 'c1', version: 3, createdAt: T + 1_000 },
  { orderId: 'B', customerId: 'c2', version: 2, createdAt: T + 1_100 },
  { orderId: 'A', customerId: 'c1', version: 4, createdAt: T + 5_000 },
  { orderId: 'B', customerId: 'c2', version: 3, createdAt: T + 5_100 },
];
const BASELINE = 2;

const open = (startedAt: number, extra: Partial<ConnectionRecord> = {}): ConnectionRecord => ({
  instance: 0,
  generation: 1,
  startedAt,
  openedAt: startedAt + 5,
  resumedFrom: '',
  ...extra,
});

/** A client that got `keys` (`A:3`…) at createdAt + `lag` ms on connection 0 (opened at T). */
function client(scope: Scope, keys: string[], options: { lag?: number; connections?: ConnectionRecord[]; deliveries?: Delivery[] } = {}): SubscriberRecord {
  const deliveries =
    options.deliveries ??
    keys.map((key) => {
      const [orderId, version] = key.split(':') as [string, string];
      const row = LOG.find((r) => r.orderId === orderId && r.version === Number(version));
      return { orderId, version: Number(version), cursor: key, receivedAt: (row?.createdAt ?? T) + (options.lag ?? 20), connection: 0 };
    });
  return { id: 0, transport: 'ws', scope, deliveries, connections: options.connections ?? [open(T - 100)], anomalies: [] };
}

const ADMIN_ALL: Scope = { kind: 'all', viewer: 'admin' };
const C1_ALL: Scope = { kind: 'all', viewer: { customerId: 'c1' } };
const ORDER_A: Scope = { kind: 'order', orderId: 'A', globalId: 'gA' };

const run = (subscribers: SubscriberRecord[], extra: Partial<VerdictInput> = {}) =>
  judge({ log: LOG, baselineIndex: BASELINE, subscribers, kills: [], documentedCloseCodes: new Map([[4008, 'slow consumer']]), ...extra });

describe('the chaos verdict', () => {
  it('passes clients that got exactly their changes: admin all after the baseline, a customer its own, one order all its versions', () => {
    const verdict = run([client(ADMIN_ALL, ['A:3', 'B:2', 'A:4', 'B:3']), client(C1_ALL, ['A:3', 'A:4']), client(ORDER_A, ['A:1', 'A:2', 'A:3', 'A:4'])]);
    expect(verdict.failures).toEqual([]);
    expect(verdict).toMatchObject({ passed: true, changesInStream: 4, expectedDeliveries: 10, deliveredExpected: 10, repeatsDropped: 0 });
  });

  it('fails a client that missed a committed change', () => {
    const verdict = run([client(ADMIN_ALL, ['A:3', 'A:4', 'B:3'])]);
    expect(verdict.passed).toBe(false);
    expect(verdict.failures).toEqual([expect.objectContaining({ missing: 1, outOfOrder: 0, unexpected: 0, examples: ['missing B:2'] })]);
  });

  it('drops a repeat by (orderId, version), as the documented dedupe does, and passes', () => {
    const verdict = run([client(ORDER_A, ['A:1', 'A:2', 'A:2', 'A:3', 'A:4'])]);
    expect(verdict).toMatchObject({ passed: true, repeatsDropped: 1 });
  });

  it('fails a client that got an order’s versions out of order', () => {
    const verdict = run([client(ORDER_A, ['A:1', 'A:3', 'A:2', 'A:4'])]);
    expect(verdict.failures).toEqual([expect.objectContaining({ outOfOrder: 1, missing: 0 })]);
  });

  it('fails a customer that got another customer’s change, and an all-orders stream that got a change from before its start', () => {
    const verdict = run([client(C1_ALL, ['A:3', 'B:2', 'A:4']), client(ADMIN_ALL, ['B:1', 'A:3', 'B:2', 'A:4', 'B:3'])]);
    expect(verdict.failures.map((f) => f.unexpected)).toEqual([1, 1]);
  });

  it('fails a change that is not in the log (never committed)', () => {
    const verdict = run([client(ORDER_A, ['A:1', 'A:2', 'A:3', 'A:4', 'A:5'])]);
    expect(verdict.failures[0]?.examples).toContain('unexpected A:5 (not in the log)');
  });

  it('explains closes by the harness, a SIGKILLed instance and a documented code; any other is unexplained', () => {
    const ended = (end: ConnectionRecord['end'], extra: Partial<ConnectionRecord> = {}) => open(T, { endedAt: T + 50, end, ...extra });
    const connections = [
      ended({ kind: 'closed', code: 1006 }, { cause: 'harness-close' }),
      ended({ kind: 'closed', code: 1006 }, { instance: 1, generation: 2 }),
      ended({ kind: 'closed', code: 4008, reason: '{}' }),
      ended({ kind: 'closed', code: 1006 }),
      ended({ kind: 'completed' }),
      open(T),
    ];
    const verdict = run([client(ORDER_A, ['A:1', 'A:2', 'A:3', 'A:4'], { connections })], { kills: [{ index: 1, generation: 2, at: T + 10 }] });
    expect(verdict.closes.byCause).toEqual({ 'cut by the harness (every 15 s)': 1, 'its instance was SIGKILLed': 1, '4008 slow consumer': 1 });
    expect(verdict.closes.unexplained).toHaveLength(2);
    expect(verdict.passed).toBe(false);
  });

  it('measures lag on changes written while connected, and replay from a reconnect’s start to the missed changes', () => {
    // Connection 0 from T-100 to T+2,000; connection 1 started at T+6,000: A:4 and B:3 were missed.
    const connections = [open(T - 100, { endedAt: T + 2_000, end: { kind: 'closed' }, cause: 'harness-close' }), open(T + 6_000)];
    const deliveries: Delivery[] = [
      { orderId: 'A', version: 3, cursor: 'A:3', receivedAt: T + 1_030, connection: 0 },
      { orderId: 'B', version: 2, cursor: 'B:2', receivedAt: T + 1_150, connection: 0 },
      { orderId: 'A', version: 4, cursor: 'A:4', receivedAt: T + 6_040, connection: 1 },
      { orderId: 'B', version: 3, cursor: 'B:3', receivedAt: T + 6_090, connection: 1 },
    ];
    const verdict = run([client(ADMIN_ALL, [], { connections, deliveries })]);
    expect(verdict.passed).toBe(true);
    expect(verdict.lagMs).toEqual({ n: 2, p50: 30, p99: 50, max: 50 });
    expect(verdict.replayFirstMs).toMatchObject({ n: 1, p99: 40 });
    expect(verdict.replayCaughtUpMs).toMatchObject({ n: 1, p99: 90 });
    expect(verdict.reconnects).toEqual({ total: 1, withReplay: 1, interrupted: 0 });
  });

  it('takes nearest-rank percentiles', () => {
    expect(distribution(Array.from({ length: 100 }, (_, i) => 100 - i))).toEqual({ n: 100, p50: 50, p99: 99, max: 100 });
    expect(distribution([])).toEqual({ n: 0, p50: null, p99: null, max: null });
  });
});
