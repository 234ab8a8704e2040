import pg from 'pg';
import { createHttpPaymentProvider, type HttpPaymentProvider } from '../../src/modules/payments/module.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { eventually as untilPasses } from '../support/eventually.ts';

/** A small deterministic PRNG (mulberry32), so a fault run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** What the database says about orders and payments, for the invariants. */
export interface LedgerRow {
  readonly orderId: string;
  readonly status: string;
  readonly totalMinor: number;
  readonly version: number;
  readonly paymentStatus: string | null;
}

/** Reads every order with its payment status. */
export async function readLedger(url: string): Promise<LedgerRow[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; status: string; total_minor: string; version: number; payment_status: string | null }>(
      'select o.id, o.status, o.total_minor, o.version, p.status as payment_status from orders o left join payments p on p.order_id = o.id',
    );
    return rows.map((r) => ({ orderId: r.id, status: r.status, totalMinor: Number(r.total_minor), version: r.version, paymentStatus: r.payment_status }));
  } finally {
    await client.end();
  }
}

/** Counts rows matching a where clause (tests only; the clause is a constant). */
export async function countWhere(url: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(sql);
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

/**
 * Polls `check` every `everyMs` until it returns true or `timeoutMs` passes (test/support/eventually.ts).
 * @returns whether it became true, for tests that report the state they found either way.
 */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<boolean> {
  return untilPasses(check, { timeoutMs, intervalMs: everyMs }).then(
    () => true,
    () => false,
  );
}

/**
 * The money invariants of issue #3 over the gateway's ledger and the provider's charges:
 * every order PAID has exactly one charge, not refunded, of its total; every other order holds no
 * money; no charge belongs to no order; no order or payment left PENDING; no key charged twice.
 * @returns the violations found (empty when all hold).
 */
export function moneyInvariantViolations(
  ledger: readonly LedgerRow[],
  charges: readonly { idempotencyKey: string; amount: number; refund: string | null; orderId: string | undefined }[],
): string[] {
  const violations: string[] = [];
  const byOrder = new Map<string, typeof charges[number][]>();
  const keys = new Map<string, number>();
  for (const charge of charges) {
    keys.set(charge.idempotencyKey, (keys.get(charge.idempotencyKey) ?? 0) + 1);
    const orderId = /^order_(.+)_charge$/.exec(charge.idempotencyKey)?.[1] ?? charge.orderId ?? 'unknown';
    byOrder.set(orderId, [...(byOrder.get(orderId) ?? []), charge]);
  }
  for (const [key, n] of keys) if (n > 1) violations.push(`key ${key} charged ${n} times`);
  const orderIds = new Set(ledger.map((o) => o.orderId));
  for (const [orderId, list] of byOrder) if (!orderIds.has(orderId)) violations.push(`orphan charge(s) for unknown order ${orderId}: ${list.length}`);
  let paidTotal = 0;
  let netCharged = 0;
  for (const order of ledger) {
    const list = byOrder.get(order.orderId) ?? [];
    const net = list.reduce((sum, c) => sum + (c.refund ? 0 : c.amount), 0);
    netCharged += net;
    if (order.status === 'PENDING') violations.push(`order ${order.orderId} left PENDING`);
    if (order.paymentStatus === 'PENDING') violations.push(`payment of ${order.orderId} left PENDING`);
    if (order.status === 'PAID') {
      paidTotal += order.totalMinor;
      if (list.length !== 1) violations.push(`PAID order ${order.orderId} has ${list.length} charges`);
      if (net !== order.totalMinor) violations.push(`PAID order ${order.orderId} holds ${net}, total ${order.totalMinor}`);
    } else if (net !== 0) {
      violations.push(`${order.status} order ${order.orderId} still holds ${net}`);
    }
  }
  if (paidTotal !== netCharged) violations.push(`Σ net charges ${netCharged} ≠ Σ totals of PAID orders ${paidTotal}`);
  return violations;
}

/**
 * The HTTP payment adapter with the fault run's settings (fault-run.test.ts passes the same values
 * to the app as PAYMENT_*): 250 ms attempts, 3 attempts, retry delays 20–150 ms, breaker opening
 * after 8 failures and half-opening after 300 ms, bulkhead of 32 with a queue of 1,000.
 */
export function faultRunPaymentAdapter(baseUrl: string, secretKey: string): HttpPaymentProvider {
  return createHttpPaymentProvider({
    baseUrl,
    secretKey,
    attemptTimeoutMs: 250,
    maxAttempts: 3,
    retryBaseDelayMs: 20,
    retryMaxDelayMs: 150,
    breakerThreshold: 8,
    breakerHalfOpenAfterMs: 300,
    bulkheadLimit: 32,
    bulkheadQueue: 1_000,
    logger: createLogger('silent'),
  });
}
