import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../../../src/platform/errors.ts';
import { systemContext } from '../../../../../src/platform/op-context.ts';
import { IllegalTransitionError, VersionConflictError } from '../../../../../src/modules/orders/domain/errors.ts';
import type { OrderStatus } from '../../../../../src/modules/orders/domain/status-machine.ts';
import type { OrderReader } from '../../../../../src/modules/orders/application/ports.ts';
import { createUpdateOrderStatus } from '../../../../../src/modules/orders/application/update-order-status.ts';
import { FIXED_NOW, adminOp, anonymousOp, customerOp, errorOf, seedOrder, setUpOrders, valueOf, writeChangesSilently } from '../../../../fakes/orders.ts';

const ALICE = 'cust-alice';
const ADMIN = 'admin-9';

function setUp(path: readonly OrderStatus[] = ['PAID']) {
  const world = setUpOrders();
  world.store.setStock('p-apple', 5);
  const order = seedOrder(world.store, { customerId: ALICE, path, lines: [{ productId: 'p-apple', quantity: 2, unitPriceMinor: 1_000 }] });
  return { ...world, order, updateOrderStatus: createUpdateOrderStatus(world.deps) };
}

describe('updateOrderStatus', () => {
  it('moves PAID → SHIPPED → DELIVERED, recording the admin as actor and delivering each change', async () => {
    const { updateOrderStatus, order, store, events } = setUp(['PAID']);

    const shipped = valueOf(await updateOrderStatus(adminOp(ADMIN), { orderId: order.id, status: 'SHIPPED', expectedVersion: 2, reason: ' tracking 123 ' }));
    const delivered = valueOf(await updateOrderStatus(systemContext('carrier-webhook'), { orderId: order.id, status: 'DELIVERED', expectedVersion: 3 }));

    expect(shipped).toMatchObject({ status: 'SHIPPED', version: 3 });
    expect(delivered).toMatchObject({ status: 'DELIVERED', version: 4, updatedAt: FIXED_NOW });
    expect(store.historyOf(order.id).map((c) => [c.version, c.from, c.to, c.actor, c.reason])).toEqual([
      [1, null, 'PENDING', `customer:${ALICE}`, null],
      [2, 'PENDING', 'PAID', 'system:payments', null],
      [3, 'PAID', 'SHIPPED', `admin:${ADMIN}`, 'tracking 123'],
      [4, 'SHIPPED', 'DELIVERED', 'system:carrier-webhook', null],
    ]);
    expect(events.deliveredChanges.map((c) => c.version)).toEqual([3, 4]);
    expect(store.stockOf('p-apple')).toBe(5);
  });

  it('answers UNAUTHENTICATED to anonymous and FORBIDDEN to a customer, even the owner', async () => {
    const { updateOrderStatus, order, store } = setUp();
    const input = { orderId: order.id, status: 'SHIPPED' as const, expectedVersion: 2 };

    expect(errorOf(await updateOrderStatus(anonymousOp(), input))).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(errorOf(await updateOrderStatus(customerOp(ALICE), input))).toMatchObject({ code: 'FORBIDDEN' });
    expect(store.orderById(order.id)).toEqual(order);
    expect(store.idLookups).toEqual([]);
  });

  it('answers VERSION_CONFLICT for a stale expectedVersion and changes nothing', async () => {
    const { updateOrderStatus, order, store, events } = setUp(['PAID']);

    const error = errorOf(await updateOrderStatus(adminOp(ADMIN), { orderId: order.id, status: 'SHIPPED', expectedVersion: 1 }));

    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ code: 'VERSION_CONFLICT', expectedVersion: 1, actualVersion: 2 });
    expect(store.orderById(order.id)).toEqual(order);
    expect(events.deliveredChanges).toEqual([]);
  });

  it('answers VERSION_CONFLICT when another change commits between the read and the write', async () => {
    const world = setUp(['PAID']);
    const { order, store } = world;
    // The admin read version 2; by the time the write runs, someone shipped it (version 3).
    let reads = 0;
    const staleReader: OrderReader = {
      findByIds: async (ids) => (reads++ === 0 ? [order] : store.findByIds(ids)),
      findByIdempotencyKey: store.findByIdempotencyKey.bind(store),
      findPage: store.findPage.bind(store),
      findLines: store.findLines.bind(store),
      findHistory: store.findHistory.bind(store),
      findHistorySince: store.findHistorySince.bind(store),
      findStalePending: store.findStalePending.bind(store),
    };
    await writeChangesSilently(store, order.id, ['SHIPPED']);
    const racing = createUpdateOrderStatus({ ...world.deps, reader: staleReader });

    const error = errorOf(await racing(adminOp(ADMIN), { orderId: order.id, status: 'CANCELLED', expectedVersion: 2 }));

    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ code: 'VERSION_CONFLICT', expectedVersion: 2, actualVersion: 3 });
    expect(store.orderById(order.id)).toMatchObject({ status: 'SHIPPED', version: 3 });
    expect(world.events.deliveredChanges).toEqual([]);
    expect(store.stockOf('p-apple')).toBe(5);
    expect(world.payments.refunds).toEqual([]);
  });

  it.each([
    { to: 'PAID', path: [] },
    { to: 'PAYMENT_FAILED', path: [] },
    { to: 'PAID', path: ['PAID'] },
  ] satisfies { to: OrderStatus; path: OrderStatus[] }[])('refuses to set $to by hand (ILLEGAL_TRANSITION), also where the machine would allow it', async ({ to, path }) => {
    const { updateOrderStatus, order, store } = setUp(path);

    const error = errorOf(await updateOrderStatus(adminOp(ADMIN), { orderId: order.id, status: to, expectedVersion: order.version }));

    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect(error).toMatchObject({ code: 'ILLEGAL_TRANSITION', from: order.status, to, message: `${to} is set by payment processing, not by hand` });
    expect(store.orderById(order.id)).toEqual(order);
  });

  it.each([
    { path: [], to: 'SHIPPED' },
    { path: ['PAID'], to: 'DELIVERED' },
    { path: ['PAID', 'SHIPPED'], to: 'CANCELLED' },
    { path: ['PAID', 'SHIPPED', 'DELIVERED'], to: 'SHIPPED' },
    { path: ['CANCELLED'], to: 'SHIPPED' },
  ] satisfies { path: OrderStatus[]; to: OrderStatus }[])('answers ILLEGAL_TRANSITION for $path → $to', async ({ path, to }) => {
    const { updateOrderStatus, order, store } = setUp(path);

    const error = errorOf(await updateOrderStatus(adminOp(ADMIN), { orderId: order.id, status: to, expectedVersion: order.version }));

    expect(error).toMatchObject({ code: 'ILLEGAL_TRANSITION', from: order.status, to });
    expect(store.orderById(order.id)).toEqual(order);
  });

  it('cancels a PAID order like cancelOrder: stock back and a refund', async () => {
    const { updateOrderStatus, order, store, payments } = setUp(['PAID']);

    const cancelled = valueOf(await updateOrderStatus(adminOp(ADMIN), { orderId: order.id, status: 'CANCELLED', expectedVersion: 2, reason: 'fraud' }));

    expect(cancelled).toMatchObject({ status: 'CANCELLED', version: 3 });
    expect(store.stockOf('p-apple')).toBe(7);
    expect(payments.refunds).toEqual([order.id]);
    expect(store.historyOf(order.id).at(-1)).toMatchObject({ actor: `admin:${ADMIN}`, reason: 'fraud' });
  });

  it('answers NOT_FOUND for a missing order', async () => {
    const { updateOrderStatus } = setUp();

    const error = errorOf(await updateOrderStatus(adminOp(ADMIN), { orderId: 'no-such-order', status: 'SHIPPED', expectedVersion: 1 }));

    expect(error).toBeInstanceOf(NotFoundError);
  });

  it('limits the reason to 500 characters (VALIDATION_FAILED on input.reason)', async () => {
    const { updateOrderStatus, order, store } = setUp();

    const error = errorOf(await updateOrderStatus(adminOp(ADMIN), { orderId: order.id, status: 'SHIPPED', expectedVersion: 2, reason: 'r'.repeat(501) }));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([['input', 'reason']]);
    expect(store.orderById(order.id)).toEqual(order);
  });
});
