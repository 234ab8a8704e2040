import { describe, expect, it } from 'vitest';
import { systemContext, type OpContext } from '../../../../../src/platform/op-context.ts';
import type { OrderStatus } from '../../../../../src/modules/orders/domain/status-machine.ts';
import type { PaymentState } from '../../../../../src/modules/orders/application/ports.ts';
import { createReconcileOrders } from '../../../../../src/modules/orders/application/reconcile-orders.ts';
import { CountingDoorbell, FIXED_NOW, deferred, seedOrder, setUpOrders } from '../../../../fakes/orders.ts';

const ALICE = 'cust-alice';
const longAgo = new Date(FIXED_NOW.getTime() - 10 * 60_000);
const olderThan = new Date(FIXED_NOW.getTime() - 60_000);

function setUp() {
  const doorbell = new CountingDoorbell();
  const world = setUpOrders({ doorbell });
  world.store.setStock('p-apple', 100);
  const order = (options: { path?: OrderStatus[]; createdAt?: Date; answer?: PaymentState } = {}) => {
    const seeded = seedOrder(world.store, {
      customerId: ALICE,
      path: options.path ?? [],
      createdAt: options.createdAt ?? longAgo,
      lines: [{ productId: 'p-apple', quantity: 2, unitPriceMinor: 1_000 }],
    });
    if (options.answer) world.payments.reconcileAnswers.set(seeded.id, options.answer);
    return seeded;
  };
  return { ...world, doorbell, order, reconcile: createReconcileOrders(world.deps) };
}

const input = { olderThan, limit: 100, concurrency: 4 };

describe('reconcileOrders', () => {
  it('reconciles each stale PENDING order and each order whose payment is listed exactly once, payable only while PENDING', async () => {
    const { reconcile, order, payments, store } = setUp();
    const paid = order({ answer: 'SUCCEEDED' });
    const voided = order({ answer: 'VOIDED' });
    const fresh = order({ createdAt: FIXED_NOW, answer: 'SUCCEEDED' }); // within the grace period
    const cancelled = order({ path: ['CANCELLED'], answer: 'SUCCEEDED' }); // a charge surfaced for it
    const both = order({ answer: 'DECLINED' }); // stale and listed by payments
    const settledLongAgo = order({ path: ['PAID'], answer: 'SUCCEEDED' }); // not listed anywhere
    const vanished = crypto.randomUUID();
    payments.toReconcile = [cancelled.id, both.id, vanished];

    const report = await reconcile(systemContext('reconciler'), input);

    expect([...payments.reconcileCalls].sort((a, b) => a.orderId.localeCompare(b.orderId))).toEqual(
      [
        { orderId: paid.id, payable: true },
        { orderId: voided.id, payable: true },
        { orderId: cancelled.id, payable: false },
        { orderId: both.id, payable: true },
      ].sort((a, b) => a.orderId.localeCompare(b.orderId)),
    );
    expect(report).toEqual({ examined: 5, settled: 4, failed: 0 });
    expect(store.orderById(paid.id)?.status).toBe('PAID');
    expect(store.orderById(voided.id)?.status).toBe('PAYMENT_FAILED');
    expect(store.orderById(both.id)?.status).toBe('PAYMENT_FAILED');
    expect(store.orderById(cancelled.id)?.status).toBe('CANCELLED');
    expect(store.orderById(fresh.id)).toEqual(fresh);
    expect(store.orderById(settledLongAgo.id)).toEqual(settledLongAgo);
    expect(payments.refunds).toEqual([cancelled.id]);
    expect(payments.chargeCalls).toEqual([]);
    // Two failed orders released 2 apples each; every change went through the order log.
    expect(store.stockOf('p-apple')).toBe(104);
    expect(store.outboxEntries().map((c) => [c.orderId, c.to]).sort()).toEqual(
      [
        [paid.id, 'PAID'],
        [voided.id, 'PAYMENT_FAILED'],
        [both.id, 'PAYMENT_FAILED'],
      ].sort(),
    );
  });

  it('counts and logs a provider failure for one order, and still settles the others', async () => {
    const { reconcile, order, payments, store, logger } = setUp();
    const first = order({ answer: 'SUCCEEDED' });
    const broken = order({ answer: 'SUCCEEDED' });
    const last = order({ answer: 'DECLINED' });
    const outage = new Error('payment provider unreachable');
    const answer = payments.reconcile.bind(payments);
    payments.reconcile = async (op, request) => {
      if (request.orderId === broken.id) throw outage;
      return answer(op, request);
    };

    const report = await reconcile(systemContext('reconciler'), { ...input, concurrency: 1 });

    expect(report).toEqual({ examined: 3, settled: 2, failed: 1 });
    expect(logger.warns).toEqual([[expect.objectContaining({ err: outage, orderId: broken.id }), expect.any(String)]]);
    expect(store.orderById(first.id)?.status).toBe('PAID');
    expect(store.orderById(broken.id)).toEqual(broken);
    expect(store.orderById(last.id)?.status).toBe('PAYMENT_FAILED');
  });

  it('leaves an order whose payment outcome is still unknown PENDING, for the next pass', async () => {
    const { reconcile, order, store } = setUp();
    const unknown = order(); // the fake answers PENDING

    await reconcile(systemContext('reconciler'), input);

    expect(store.orderById(unknown.id)).toEqual(unknown);
    expect(store.outboxEntries()).toEqual([]);
  });

  it('stops starting orders once the operation is aborted', async () => {
    const { reconcile, order, payments, logger } = setUp();
    for (let i = 0; i < 5; i += 1) order({ answer: 'SUCCEEDED' });
    const controller = new AbortController();
    const answer = payments.reconcile.bind(payments);
    payments.reconcile = async (op, request) => {
      controller.abort(new Error('shutting down'));
      return answer(op, request);
    };

    const report = await reconcile(systemContext('reconciler', controller.signal), { ...input, concurrency: 1 });

    expect(payments.reconcileCalls).toHaveLength(1);
    expect(report).toMatchObject({ examined: 5, failed: 0 });
    expect(logger.warns).toEqual([]);
  });

  it('works through the orders with at most `concurrency` reconciliations at once', async () => {
    const { reconcile, order, payments } = setUp();
    for (let i = 0; i < 7; i += 1) order({ answer: 'SUCCEEDED' });
    let inFlight = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const answer = payments.reconcile.bind(payments);
    payments.reconcile = async (op: OpContext, request) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      const gate = deferred<void>();
      gates.push(() => gate.resolve());
      await gate.promise;
      inFlight -= 1;
      return answer(op, request);
    };

    let finished = false;
    const running = reconcile(systemContext('reconciler'), { ...input, concurrency: 3 }).finally(() => {
      finished = true;
    });
    // Let the held calls go one at a time until the pass ends (bounded, in case it never does).
    for (let turn = 0; turn < 200 && !finished; turn += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      gates.shift()?.();
    }
    const report = await running;

    expect(peak).toBe(3);
    expect(report).toEqual({ examined: 7, settled: 7, failed: 0 });
    expect(new Set(payments.reconcileCalls.map((c) => c.orderId)).size).toBe(7);
  });

  it('asks for stale orders and payments with the same grace period and limit', async () => {
    const { reconcile, payments, store } = setUp();
    const staleOrders: unknown[] = [];
    const findStale = store.findStalePending.bind(store);
    store.findStalePending = async (before, limit) => {
      staleOrders.push({ before, limit });
      return findStale(before, limit);
    };

    await reconcile(systemContext('reconciler'), { olderThan, limit: 25, concurrency: 2 });

    expect(payments.listQueries).toEqual([{ olderThan, limit: 25 }]);
    expect(staleOrders).toEqual([{ before: olderThan, limit: 25 }]);
  });
});
