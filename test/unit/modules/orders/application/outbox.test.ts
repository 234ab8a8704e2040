import { describe, expect, it } from 'vitest';
import { err, ok } from '../../../../../src/platform/result.ts';
import type { OrderStatusChange } from '../../../../../src/modules/orders/domain/order.ts';
import { createCancelOrder } from '../../../../../src/modules/orders/application/cancel-order.ts';
import { createPlaceOrder } from '../../../../../src/modules/orders/application/place-order.ts';
import { createUpdateOrderStatus } from '../../../../../src/modules/orders/application/update-order-status.ts';
import {
  CountingDoorbell,
  changeOf,
  FIXED_NOW,
  InMemoryLogReader,
  InMemoryOrderEvents,
  InMemoryOrdersStore,
  adminOp,
  customerOp,
  errorOf,
  seedOrder,
  setUpOrders,
  valueOf,
  writeChangesSilently,
} from '../../../../fakes/orders.ts';

const ALICE = 'cust-alice';

/** Use cases over fakes whose doorbell only counts rings (nothing is delivered), so the log can be inspected. */
function setUp() {
  const doorbell = new CountingDoorbell();
  const world = setUpOrders({ doorbell });
  world.catalog.add({ id: 'p-apple', name: 'Apple', priceMinor: 1_000, active: true });
  world.customers.set(ALICE, 0);
  world.store.setStock('p-apple', 5);
  return {
    ...world,
    doorbell,
    placeOrder: createPlaceOrder(world.deps),
    cancelOrder: createCancelOrder(world.deps),
    updateOrderStatus: createUpdateOrderStatus(world.deps),
  };
}

describe('transactional outbox (use cases over the in-memory store)', () => {
  it('a committed status change leaves exactly one outbox entry, equal to its history entry, and one ring after the commit', async () => {
    const { updateOrderStatus, store, doorbell } = setUp();
    const order = seedOrder(store, { customerId: ALICE, path: ['PAID'] });
    let storedAtRing: number | undefined;
    doorbell.onRing = () => {
      storedAtRing = store.orderById(order.id)?.version;
    };

    valueOf(await updateOrderStatus(adminOp(), { orderId: order.id, status: 'SHIPPED', expectedVersion: 2 }));

    expect(store.outboxEntries()).toEqual(store.historyOf(order.id).slice(2));
    expect(store.outboxEntries()).toHaveLength(1);
    expect(doorbell.rings).toBe(1);
    expect(storedAtRing).toBe(3);
  });

  it('a rejected change (stale version) commits nothing: no outbox entry, no ring', async () => {
    const { updateOrderStatus, store, doorbell } = setUp();
    const order = seedOrder(store, { customerId: ALICE, path: ['PAID'] });

    errorOf(await updateOrderStatus(adminOp(), { orderId: order.id, status: 'SHIPPED', expectedVersion: 1 }));

    expect(store.outboxEntries()).toEqual([]);
    expect(doorbell.rings).toBe(0);
  });

  it('a rolled-back placement (out of stock after the order row was written) leaves no outbox entry', async () => {
    const { placeOrder, store, doorbell, payments } = setUp();

    errorOf(await placeOrder(customerOp(ALICE), { lines: [{ productId: 'p-apple', quantity: 6 }], idempotencyKey: 'k-1' }));

    expect(store.rollbacks).toBe(1);
    expect(store.allOrders()).toEqual([]);
    expect(store.outboxEntries()).toEqual([]);
    expect(doorbell.rings).toBe(0);
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

describe('InMemoryOrdersStore order log', () => {
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

  it('logs each commit after the earlier ones; readAfter answers what follows a position, by order or customer, at most `limit`', async () => {
    const store = new InMemoryOrdersStore();
    const alices = seedOrder(store, { customerId: ALICE });
    const bobs = seedOrder(store, { customerId: 'cust-bob' });
    const [alicePaid, aliceShipped] = await writeChangesSilently(store, alices.id, ['PAID', 'SHIPPED']);
    const [bobPaid] = await writeChangesSilently(store, bobs.id, ['PAID']);

    const logged = store.loggedChanges();
    expect(logged.map(changeOf)).toEqual([alicePaid, aliceShipped, bobPaid]);
    expect(logged[0]!.position.txId).toBe(logged[1]!.position.txId); // one transaction
    expect(logged[2]!.position.txId).toBeGreaterThan(logged[1]!.position.txId);
    expect(await store.readAfter(logged[0]!.position, {}, 10)).toEqual(logged.slice(1));
    expect(await store.readAfter(null, {}, 2)).toEqual(logged.slice(0, 2));
    expect(await store.readAfter(null, { customerId: 'cust-bob' }, 10)).toEqual([logged[2]]);
    expect(await store.readAfter(null, { orderId: alices.id }, 10)).toEqual(logged.slice(0, 2));
  });

  it('log reader: a failed read delivers nothing and keeps its position; the next ring delivers every change once, in order', async () => {
    const store = new InMemoryOrdersStore();
    const events = new InMemoryOrderEvents();
    const reader = new InMemoryLogReader(store, events);
    const order = seedOrder(store, { customerId: ALICE });
    const written = await writeChangesSilently(store, order.id, ['PAID', 'SHIPPED', 'DELIVERED']);
    reader.readError = new Error('database hiccup');

    reader.ring();
    await reader.idle();

    expect(events.delivered).toEqual([]);
    expect(reader.failures).toBe(1);

    reader.readError = undefined;
    reader.ring();
    reader.ring();
    await reader.idle();

    expect(events.deliveredChanges).toEqual(written);
    expect(store.outboxEntries()).toEqual(written); // the log keeps them: no "published" state
  });
});
