import { describe, expect, it } from 'vitest';
import { err, ok } from '../../../../../src/platform/result.ts';
import type { OrderStatusChange } from '../../../../../src/modules/orders/domain/order.ts';
import { createCancelOrder } from '../../../../../src/modules/orders/application/cancel-order.ts';
import { createPlaceOrder } from '../../../../../src/modules/orders/application/place-order.ts';
import { createUpdateOrderStatus } from '../../../../../src/modules/orders/application/update-order-status.ts';
import {
  CountingOutboxTrigger,
  FIXED_NOW,
  InMemoryOrderEvents,
  InMemoryOrdersStore,
  InMemoryOutboxRelay,
  adminOp,
  customerOp,
  deferred,
  errorOf,
  seedOrder,
  setUpOrders,
  valueOf,
  writeChangesSilently,
} from '../../../../fakes/orders.ts';

const ALICE = 'cust-alice';

/** Use cases over fakes whose outbox is only counted, never drained, so its entries can be inspected. */
function setUp() {
  const outbox = new CountingOutboxTrigger();
  const world = setUpOrders({ outbox });
  world.catalog.add({ id: 'p-apple', name: 'Apple', priceMinor: 1_000, active: true });
  world.customers.set(ALICE, 0);
  world.store.setStock('p-apple', 5);
  return {
    ...world,
    outbox,
    placeOrder: createPlaceOrder(world.deps),
    cancelOrder: createCancelOrder(world.deps),
    updateOrderStatus: createUpdateOrderStatus(world.deps),
  };
}

describe('transactional outbox (use cases over the in-memory store)', () => {
  it('a committed status change leaves exactly one outbox entry, equal to its history entry, and one nudge after the commit', async () => {
    const { updateOrderStatus, store, outbox } = setUp();
    const order = seedOrder(store, { customerId: ALICE, path: ['PAID'] });
    let storedAtNudge: number | undefined;
    outbox.onNudge = () => {
      storedAtNudge = store.orderById(order.id)?.version;
    };

    valueOf(await updateOrderStatus(adminOp(), { orderId: order.id, status: 'SHIPPED', expectedVersion: 2 }));

    expect(store.outboxEntries()).toEqual(store.historyOf(order.id).slice(2));
    expect(store.outboxEntries()).toHaveLength(1);
    expect(outbox.nudges).toBe(1);
    expect(storedAtNudge).toBe(3);
  });

  it('a rejected change (stale version) commits nothing: no outbox entry, no nudge', async () => {
    const { updateOrderStatus, store, outbox } = setUp();
    const order = seedOrder(store, { customerId: ALICE, path: ['PAID'] });

    errorOf(await updateOrderStatus(adminOp(), { orderId: order.id, status: 'SHIPPED', expectedVersion: 1 }));

    expect(store.outboxEntries()).toEqual([]);
    expect(outbox.nudges).toBe(0);
  });

  it('a rolled-back placement (out of stock after the order row was written) leaves no outbox entry', async () => {
    const { placeOrder, store, outbox, payments } = setUp();

    errorOf(await placeOrder(customerOp(ALICE), { lines: [{ productId: 'p-apple', quantity: 6 }], idempotencyKey: 'k-1' }));

    expect(store.rollbacks).toBe(1);
    expect(store.allOrders()).toEqual([]);
    expect(store.outboxEntries()).toEqual([]);
    expect(outbox.nudges).toBe(0);
    expect(payments.chargeCalls).toEqual([]);
  });

  it('a cancellation writes its change and its stock release in one commit with one outbox entry', async () => {
    const { cancelOrder, store } = setUp();
    const order = seedOrder(store, { customerId: ALICE, lines: [{ productId: 'p-apple', quantity: 2, unitPriceMinor: 1_000 }] });
    const commitsBefore = store.commits;

    valueOf(await cancelOrder(customerOp(ALICE), { orderId: order.id }));

    expect(store.commits).toBe(commitsBefore + 1);
    expect(store.outboxEntries()).toEqual([expect.objectContaining({ orderId: order.id, version: 2, from: 'PENDING', to: 'CANCELLED' })]);
    expect(store.stockOf('p-apple')).toBe(7);
  });
});

describe('InMemoryOrdersStore outbox', () => {
  const change = (orderId: string, version: number): OrderStatusChange => ({
    orderId,
    customerId: ALICE,
    version,
    from: version === 2 ? 'PENDING' : 'PAID',
    to: version === 2 ? 'PAID' : 'SHIPPED',
    at: FIXED_NOW,
    actor: 'system:test',
    reason: null,
  });

  it.each([
    { name: 'returns an error', end: 'error' as const },
    { name: 'throws', end: 'throw' as const },
  ])('keeps no outbox entry of a transaction that $name', async ({ end }) => {
    const store = new InMemoryOrdersStore();
    const order = seedOrder(store, { customerId: ALICE });

    const run = store.transaction(async (tx) => {
      expect(await tx.saveStatusChange(change(order.id, 2))).toBeDefined();
      if (end === 'throw') throw new Error('boom');
      return err('rolled back');
    });
    await (end === 'throw' ? expect(run).rejects.toThrow('boom') : expect(run).resolves.toEqual(err('rolled back')));

    expect(store.outboxEntries()).toEqual([]);
    expect(store.orderById(order.id)).toEqual(order);
  });

  it('does not hand an entry to the relay twice when the relay drains while another transaction is open', async () => {
    const store = new InMemoryOrdersStore();
    const events = new InMemoryOrderEvents();
    const relay = new InMemoryOutboxRelay(store, events);
    const order = seedOrder(store, { customerId: ALICE });
    const [paid] = await writeChangesSilently(store, order.id, ['PAID'], 'system:payments');
    const started = deferred<void>();
    const gate = deferred<void>();
    const open = store.transaction(async (tx) => {
      started.resolve();
      await gate.promise;
      const shipped = await tx.saveStatusChange(change(order.id, 3));
      return shipped ? ok(shipped) : err('conflict');
    });

    await started.promise;
    relay.nudge(); // drains v2 while the transaction above is open
    await relay.idle();
    gate.resolve();
    valueOf(await open);
    relay.nudge();
    await relay.idle();

    expect(events.published.map((c) => c.version)).toEqual([paid!.version, 3]);
    expect(store.outboxEntries()).toEqual([]);
  });

  it('relay: a failed publish puts the unpublished entries back in order; the next nudge publishes them once each', async () => {
    const store = new InMemoryOrdersStore();
    const events = new InMemoryOrderEvents();
    const relay = new InMemoryOutboxRelay(store, events);
    const order = seedOrder(store, { customerId: ALICE });
    const written = await writeChangesSilently(store, order.id, ['PAID', 'SHIPPED', 'DELIVERED']);
    let calls = 0;
    events.onPublish = () => {
      calls += 1;
      if (calls === 2) throw new Error('pub/sub hiccup');
    };

    relay.nudge();
    await relay.idle();

    expect(events.published).toEqual([written[0]]);
    expect(store.outboxEntries()).toEqual(written.slice(1));

    relay.nudge();
    await relay.idle();

    expect(events.published).toEqual(written);
    expect(store.outboxEntries()).toEqual([]);
    expect(relay.failures).toBe(1);
  });
});
