import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../../src/platform/errors.ts';
import { systemContext } from '../../../../../src/platform/op-context.ts';
import { IdempotencyKeyReusedError, OutOfStockError } from '../../../../../src/modules/orders/domain/errors.ts';
import { createCancelOrder } from '../../../../../src/modules/orders/application/cancel-order.ts';
import type { OrdersDeps } from '../../../../../src/modules/orders/application/deps.ts';
import { createPlaceOrder, hashRequest, type PlaceOrderInput } from '../../../../../src/modules/orders/application/place-order.ts';
import {
  CountingDoorbell,
  FIXED_NOW,
  FakePaymentDeclinedError,
  anonymousOp,
  customerOp,
  deferred,
  errorOf,
  logReaderOf,
  setUpOrders,
  valueOf,
  type ChargeOutcome,
} from '../../../../fakes/orders.ts';

const ALICE = 'cust-alice'; // PREMIUM: 10 %
const BOB = 'cust-bob'; // STANDARD: 0 %

function setUp(overrides: Partial<OrdersDeps> = {}) {
  const world = setUpOrders(overrides);
  world.catalog.add(
    { id: 'p-apple', name: 'Apple', priceMinor: 1_999, active: true },
    { id: 'p-pear', name: 'Pear', priceMinor: 505, active: true },
    { id: 'p-old', name: 'Discontinued', priceMinor: 100, active: false },
  );
  world.customers.set(ALICE, 10).set(BOB, 0);
  world.store.setStock('p-apple', 10);
  world.store.setStock('p-pear', 10);
  world.store.setStock('p-old', 10);
  return { ...world, placeOrder: createPlaceOrder(world.deps), cancelOrder: createCancelOrder(world.deps) };
}

const basket: PlaceOrderInput = {
  lines: [
    { productId: 'p-apple', quantity: 2 },
    { productId: 'p-pear', quantity: 3 },
  ],
  idempotencyKey: 'checkout-1',
};

/** Holds the charge until the test decides its outcome, and tells when it started. */
function gatedCharge() {
  const started = deferred<void>();
  const outcome = deferred<ChargeOutcome>();
  return {
    started: started.promise,
    settle: outcome.resolve,
    script: async () => {
      started.resolve();
      return outcome.promise;
    },
  };
}

describe('placeOrder', () => {
  it('places a PAID order with the PREMIUM 10 % discount, two history entries and one charge of the total', async () => {
    const { placeOrder, store, payments } = setUp();

    const order = valueOf(await placeOrder(customerOp(ALICE), basket));

    // 2 × 19.99 + 3 × 5.05 = 55.13; 10 % = 5.513 → 5.51; total 49.62.
    expect(order).toMatchObject({
      customerId: ALICE,
      idempotencyKey: 'checkout-1',
      requestHash: hashRequest(basket.lines),
      status: 'PAID',
      currency: 'USD',
      subtotalMinor: 5_513,
      discountPercent: 10,
      discountMinor: 551,
      totalMinor: 4_962,
      version: 2,
      createdAt: FIXED_NOW,
      updatedAt: FIXED_NOW,
    });
    expect(store.orderById(order.id)).toEqual(order);
    expect(store.linesOf(order.id)).toEqual([
      { orderId: order.id, position: 1, productId: 'p-apple', productName: 'Apple', quantity: 2, unitPriceMinor: 1_999, lineTotalMinor: 3_998 },
      { orderId: order.id, position: 2, productId: 'p-pear', productName: 'Pear', quantity: 3, unitPriceMinor: 505, lineTotalMinor: 1_515 },
    ]);
    expect(store.historyOf(order.id)).toEqual([
      { orderId: order.id, customerId: ALICE, version: 1, from: null, to: 'PENDING', at: FIXED_NOW, actor: `customer:${ALICE}`, reason: null },
      { orderId: order.id, customerId: ALICE, version: 2, from: 'PENDING', to: 'PAID', at: FIXED_NOW, actor: 'system:payments', reason: null },
    ]);
    expect(payments.chargeCalls).toEqual([{ orderId: order.id, amountMinor: 4_962, currency: 'USD' }]);
    expect(store.stockOf('p-apple')).toBe(8);
    expect(store.stockOf('p-pear')).toBe(7);
  });

  it('delivers v1 then v2, each only after it is committed to the store', async () => {
    const { placeOrder, store, events, deps } = setUp();
    const seenAtDelivery: { version: number; storedVersion: number | undefined; storedHistory: number[] }[] = [];
    events.onDeliver = (change) => {
      seenAtDelivery.push({
        version: change.version,
        storedVersion: store.orderById(change.orderId)?.version,
        storedHistory: store.historyOf(change.orderId).map((c) => c.version),
      });
    };

    const order = valueOf(await placeOrder(customerOp(ALICE), basket));
    await logReaderOf(deps).idle();

    expect(seenAtDelivery).toEqual([
      { version: 1, storedVersion: 1, storedHistory: [1] },
      { version: 2, storedVersion: 2, storedHistory: [1, 2] },
    ]);
    expect(events.deliveredChanges).toEqual(store.historyOf(order.id));
  });

  it('commits v1 to the log and rings the doorbell before the charge starts (a watcher sees PENDING while payment runs)', async () => {
    const { placeOrder, events, payments, deps } = setUp();
    const reader = logReaderOf(deps);
    const whenCharging: { rings: number; delivered: number[] }[] = [];
    payments.defaultOutcome = async () => {
      await reader.idle();
      whenCharging.push({ rings: reader.rings, delivered: events.delivered.map((c) => c.version) });
      return { kind: 'succeed' };
    };

    valueOf(await placeOrder(customerOp(ALICE), basket));

    expect(whenCharging).toEqual([{ rings: 1, delivered: [1] }]);
  });

  it('rings the doorbell only after each commit, with the change already in the log', async () => {
    const doorbell = new CountingDoorbell();
    const { placeOrder, store } = setUp({ doorbell });
    const seenAtRing: { log: number[]; storedVersion: number | undefined }[] = [];
    doorbell.onRing = () => {
      const [order] = store.allOrders();
      seenAtRing.push({ log: store.outboxEntries().map((c) => c.version), storedVersion: order?.version });
    };

    const order = valueOf(await placeOrder(customerOp(ALICE), basket));

    expect(seenAtRing).toEqual([
      { log: [1], storedVersion: 1 },
      { log: [1, 2], storedVersion: 2 },
    ]);
    expect(store.outboxEntries()).toEqual(store.historyOf(order.id));
  });

  it('prices STANDARD customers without a discount', async () => {
    const { placeOrder } = setUp();

    const order = valueOf(await placeOrder(customerOp(BOB), basket));

    expect(order).toMatchObject({ subtotalMinor: 5_513, discountPercent: 0, discountMinor: 0, totalMinor: 5_513 });
  });

  it.each([
    { name: 'anonymous', op: anonymousOp() },
    { name: 'the system', op: systemContext('test') },
  ])('answers UNAUTHENTICATED to $name and touches nothing', async ({ op }) => {
    const { placeOrder, store, payments, catalog } = setUp();

    const error = errorOf(await placeOrder(op, basket));

    expect(error).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(store.allOrders()).toEqual([]);
    expect(catalog.lookups).toEqual([]);
    expect(payments.chargeCalls).toEqual([]);
  });

  it('returns every validation issue with its input path, before looking anything up', async () => {
    const { placeOrder, store, catalog, payments } = setUp();

    const error = errorOf(
      await placeOrder(customerOp(ALICE), {
        lines: [
          { productId: 'p-apple', quantity: 0 },
          { productId: 'p-apple', quantity: 1.5 },
          { productId: 'p-pear', quantity: 1_001 },
        ],
        idempotencyKey: '',
      }),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([
      ['input', 'lines', '0', 'quantity'],
      ['input', 'lines', '1', 'quantity'],
      ['input', 'lines', '1', 'productId'],
      ['input', 'lines', '2', 'quantity'],
      ['input', 'idempotencyKey'],
    ]);
    expect(catalog.lookups).toEqual([]);
    expect(store.allOrders()).toEqual([]);
    expect(payments.chargeCalls).toEqual([]);
  });

  it('rejects an empty basket on input.lines', async () => {
    const { placeOrder } = setUp();

    const error = errorOf(await placeOrder(customerOp(ALICE), { lines: [], idempotencyKey: 'k' }));

    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([['input', 'lines']]);
  });

  it('flags an unknown and an inactive product on their own line paths, reserving and charging nothing', async () => {
    const { placeOrder, store, payments, events } = setUp();

    const error = errorOf(
      await placeOrder(customerOp(ALICE), {
        lines: [
          { productId: 'p-apple', quantity: 1 },
          { productId: 'p-missing', quantity: 1 },
          { productId: 'p-old', quantity: 1 },
        ],
        idempotencyKey: 'k',
      }),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: ['input', 'lines', '1', 'productId'], message: 'no such product' },
      { path: ['input', 'lines', '2', 'productId'], message: 'is no longer sold' },
    ]);
    expect(store.allOrders()).toEqual([]);
    expect(store.stockOf('p-apple')).toBe(10);
    expect(store.stockOf('p-old')).toBe(10);
    expect(payments.chargeCalls).toEqual([]);
    expect(events.deliveredChanges).toEqual([]);
  });

  it('answers VALIDATION_FAILED on viewer when the signed-in customer no longer exists', async () => {
    const { placeOrder, store } = setUp();

    const error = errorOf(await placeOrder(customerOp('cust-deleted'), basket));

    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([['viewer']]);
    expect(store.allOrders()).toEqual([]);
  });

  it('answers OUT_OF_STOCK naming the product, and rolls back the lines it had already reserved', async () => {
    const { placeOrder, store, payments, events } = setUp();
    store.setStock('p-pear', 2);

    // p-apple is reserved first (product-id order), then p-pear fails: the apple units must come back.
    const error = errorOf(await placeOrder(customerOp(ALICE), basket));

    expect(error).toBeInstanceOf(OutOfStockError);
    expect(error).toMatchObject({ code: 'OUT_OF_STOCK', productId: 'p-pear' });
    expect(store.stockOf('p-apple')).toBe(10);
    expect(store.stockOf('p-pear')).toBe(2);
    expect(store.allOrders()).toEqual([]);
    expect(store.commits).toBe(0);
    expect(payments.chargeCalls).toEqual([]);
    expect(events.deliveredChanges).toEqual([]);
  });

  it('on a decline: PAYMENT_FAILED with the stock released, and the PaymentDecline returned', async () => {
    const { placeOrder, store, payments, events } = setUp();
    payments.defaultOutcome = { kind: 'decline', declineCode: 'insufficient_funds', message: 'Not enough funds' };

    const error = errorOf(await placeOrder(customerOp(ALICE), basket));

    expect(error).toBeInstanceOf(FakePaymentDeclinedError);
    const [order] = store.allOrders();
    expect(error).toMatchObject({ code: 'PAYMENT_DECLINED', declineCode: 'insufficient_funds', orderId: order?.id });
    expect(order).toMatchObject({ status: 'PAYMENT_FAILED', version: 2 });
    expect(store.historyOf(order!.id).at(-1)).toEqual({
      orderId: order!.id,
      customerId: ALICE,
      version: 2,
      from: 'PENDING',
      to: 'PAYMENT_FAILED',
      at: FIXED_NOW,
      actor: 'system:payments',
      reason: 'payment declined: Not enough funds',
    });
    expect(store.stockOf('p-apple')).toBe(10);
    expect(store.stockOf('p-pear')).toBe(10);
    expect(events.deliveredChanges.map((c) => [c.version, c.to])).toEqual([
      [1, 'PENDING'],
      [2, 'PAYMENT_FAILED'],
    ]);
  });

  it('replays the same key and lines with the same order, charging once', async () => {
    const { placeOrder, store, payments, events } = setUp();

    const first = valueOf(await placeOrder(customerOp(ALICE), basket));
    const second = valueOf(await placeOrder(customerOp(ALICE), basket));
    // Same lines in another order: still the same request.
    const third = valueOf(await placeOrder(customerOp(ALICE), { ...basket, lines: [...basket.lines].reverse() }));

    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(payments.chargeCalls).toHaveLength(1);
    expect(store.allOrders()).toHaveLength(1);
    expect(store.stockOf('p-apple')).toBe(8);
    expect(events.deliveredChanges).toHaveLength(2);
  });

  it('replays a declined order with the same decline, without charging again', async () => {
    const { placeOrder, store, payments } = setUp();
    payments.defaultOutcome = { kind: 'decline', declineCode: 'card_declined', message: 'Declined' };

    const first = errorOf(await placeOrder(customerOp(ALICE), basket));
    payments.defaultOutcome = { kind: 'succeed' };
    const second = errorOf(await placeOrder(customerOp(ALICE), basket));

    expect(second).toBe(first);
    expect(payments.chargeCalls).toHaveLength(1);
    expect(store.allOrders()).toHaveLength(1);
  });

  it('answers IDEMPOTENCY_KEY_REUSED for the same key with other lines, changing nothing', async () => {
    const { placeOrder, store, payments } = setUp();
    valueOf(await placeOrder(customerOp(ALICE), basket));

    const error = errorOf(await placeOrder(customerOp(ALICE), { ...basket, lines: [{ productId: 'p-apple', quantity: 1 }] }));

    expect(error).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(store.allOrders()).toHaveLength(1);
    expect(payments.chargeCalls).toHaveLength(1);
    expect(store.stockOf('p-apple')).toBe(8);
  });

  it('scopes idempotency keys per customer', async () => {
    const { placeOrder, store, payments } = setUp();

    const alices = valueOf(await placeOrder(customerOp(ALICE), basket));
    const bobs = valueOf(await placeOrder(customerOp(BOB), basket));

    expect(bobs.id).not.toBe(alices.id);
    expect(bobs.customerId).toBe(BOB);
    expect(store.allOrders()).toHaveLength(2);
    expect(payments.chargeCalls).toHaveLength(2);
  });

  it('two concurrent calls with the same key: one order, one charge, one reservation, same answer', async () => {
    const { placeOrder, store, payments } = setUp();

    const [a, b] = await Promise.all([placeOrder(customerOp(ALICE), basket), placeOrder(customerOp(ALICE), basket)]);

    const first = valueOf(a);
    const second = valueOf(b);
    expect(second.id).toBe(first.id);
    expect(first.status).toBe('PAID');
    expect(second).toEqual(first);
    expect(store.allOrders()).toHaveLength(1);
    expect(payments.chargeCalls).toHaveLength(1);
    expect(store.stockOf('p-apple')).toBe(8);
    expect(store.stockOf('p-pear')).toBe(7);
  });

  it('two concurrent calls with the same key for the last units in stock both get the order, not OUT_OF_STOCK', async () => {
    const { placeOrder, store, payments } = setUp();
    store.setStock('p-apple', 2); // exactly what one basket needs

    const [a, b] = await Promise.all([placeOrder(customerOp(ALICE), basket), placeOrder(customerOp(ALICE), basket)]);

    // The loser's reservation runs before its insert hits the unique key, so it fails on stock the
    // winner (its own twin) took, and the retry of a successful checkout answers OUT_OF_STOCK.
    expect(store.allOrders()).toHaveLength(1);
    expect(payments.chargeCalls).toHaveLength(1);
    expect(a.ok && a.value.status).toBe('PAID');
    expect(b).toEqual(a);
  });

  it('a replay while the first call is still charging waits for its outcome and never charges', async () => {
    const { placeOrder, store, payments } = setUp();
    const gate = gatedCharge();
    payments.defaultOutcome = gate.script;

    const first = placeOrder(customerOp(ALICE), basket);
    await gate.started;
    expect(store.allOrders()[0]).toMatchObject({ status: 'PENDING' });
    const second = placeOrder(customerOp(ALICE), basket);
    gate.settle({ kind: 'succeed' });

    const [a, b] = await Promise.all([first, second]);
    expect(valueOf(b)).toEqual(valueOf(a));
    expect(valueOf(b).status).toBe('PAID');
    expect(payments.chargeCalls).toHaveLength(1);
  });

  it('a replay gives up waiting after settleWaitMs and returns the PENDING order', async () => {
    const { placeOrder, payments } = setUp({ settleWaitMs: 0 });
    const gate = gatedCharge();
    payments.defaultOutcome = gate.script;

    const first = placeOrder(customerOp(ALICE), basket);
    await gate.started;
    const second = valueOf(await placeOrder(customerOp(ALICE), basket));

    expect(second).toMatchObject({ status: 'PENDING', version: 1 });
    gate.settle({ kind: 'succeed' });
    expect(valueOf(await first).status).toBe('PAID');
    expect(payments.chargeCalls).toHaveLength(1);
  });

  it('a replay waiting for the first call stops when its own request aborts: an AbortError carrying the reason, nothing charged', async () => {
    const { placeOrder, payments } = setUp();
    const gate = gatedCharge();
    payments.defaultOutcome = gate.script;

    const first = placeOrder(customerOp(ALICE), basket);
    await gate.started;
    const controller = new AbortController();
    const second = placeOrder(customerOp(ALICE, { signal: controller.signal }), basket);
    const reason = new Error('client went away');
    controller.abort(reason);

    // Before the first call settles, and long before settleWaitMs (2 s here) would end the wait.
    await expect(second).rejects.toMatchObject({ name: 'AbortError', cause: reason });
    gate.settle({ kind: 'succeed' });
    expect(valueOf(await first).status).toBe('PAID');
    expect(payments.chargeCalls).toHaveLength(1);
  });

  it('when the provider cannot be reached: the PENDING order is returned, stock reserved, logged and left for reconciliation', async () => {
    const world = setUp();
    const { placeOrder, store, payments, events, logger } = world;
    const outage = new Error('payment provider unreachable');
    payments.defaultOutcome = { kind: 'throw', error: outage };

    const returned = valueOf(await placeOrder(customerOp(ALICE), basket));

    const [order] = store.allOrders();
    expect(returned).toEqual(order);
    expect(order).toMatchObject({ status: 'PENDING', version: 1 });
    expect(store.historyOf(order!.id)).toHaveLength(1);
    expect(store.stockOf('p-apple')).toBe(8);
    expect(payments.chargeCalls).toHaveLength(1);
    expect(logger.warns).toEqual([[expect.objectContaining({ err: outage, orderId: order!.id }), expect.any(String)]]);
    await logReaderOf(world.deps).idle();
    expect(events.delivered.map((c) => c.version)).toEqual([1]);
    expect(store.outboxEntries()).toEqual(store.historyOf(order!.id));
  });

  it('a successful charge for an order cancelled meanwhile is refunded and the order stays CANCELLED', async () => {
    const { placeOrder, cancelOrder, store, payments } = setUp();
    const gate = gatedCharge();
    payments.defaultOutcome = gate.script;

    const placing = placeOrder(customerOp(ALICE), basket);
    await gate.started;
    const orderId = payments.chargeCalls[0]!.orderId;
    valueOf(await cancelOrder(customerOp(ALICE), { orderId }));
    gate.settle({ kind: 'succeed' });

    const order = valueOf(await placing);
    expect(order).toMatchObject({ id: orderId, status: 'CANCELLED', version: 2 });
    expect(payments.refunds).toEqual([orderId]);
    expect(store.stockOf('p-apple')).toBe(10); // released once, by the cancel
    expect(store.historyOf(orderId).map((c) => c.to)).toEqual(['PENDING', 'CANCELLED']);
  });

  it('a decline for an order cancelled meanwhile does not release its stock a second time', async () => {
    const { placeOrder, cancelOrder, store, payments } = setUp();
    const gate = gatedCharge();
    payments.defaultOutcome = gate.script;

    const placing = placeOrder(customerOp(ALICE), basket);
    await gate.started;
    const orderId = payments.chargeCalls[0]!.orderId;
    valueOf(await cancelOrder(customerOp(ALICE), { orderId }));
    gate.settle({ kind: 'decline' });

    expect(errorOf(await placing)).toMatchObject({ code: 'PAYMENT_DECLINED' });
    expect(store.stockOf('p-apple')).toBe(10);
    expect(store.stockOf('p-pear')).toBe(10);
    expect(payments.refunds).toEqual([]);
    expect(store.orderById(orderId)).toMatchObject({ status: 'CANCELLED' });
  });

  it('a failed log read neither fails the order nor undoes it; the changes stay in the log for the next ring', async () => {
    const { placeOrder, store, events, deps } = setUp();
    const reader = logReaderOf(deps);
    reader.readError = new Error('database hiccup');

    const order = valueOf(await placeOrder(customerOp(ALICE), basket));
    await reader.idle();

    expect(order.status).toBe('PAID');
    expect(store.orderById(order.id)).toMatchObject({ status: 'PAID', version: 2 });
    expect(reader.failures).toBeGreaterThan(0);
    expect(events.delivered).toEqual([]);
    expect(store.outboxEntries()).toEqual(store.historyOf(order.id));

    reader.readError = undefined;
    reader.ring();
    await reader.idle();

    expect(events.deliveredChanges).toEqual(store.historyOf(order.id)); // v1 then v2, each once
  });

  it('stops before reserving anything when the request is aborted', async () => {
    const { placeOrder, store, payments } = setUp();
    const controller = new AbortController();
    controller.abort(new Error('client went away'));

    await expect(placeOrder(customerOp(ALICE, { signal: controller.signal }), basket)).rejects.toThrow('client went away');

    expect(store.allOrders()).toEqual([]);
    expect(payments.chargeCalls).toEqual([]);
  });
});

describe('hashRequest', () => {
  it('is the same for the same lines in any order, and differs for other quantities', () => {
    const lines = basket.lines;
    expect(hashRequest([...lines].reverse())).toBe(hashRequest(lines));
    expect(hashRequest([{ productId: 'p-apple', quantity: 3 }, lines[1]!])).not.toBe(hashRequest(lines));
  });
});
