import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../../src/platform/errors.ts';
import { IdempotencyKeyReusedError, VersionConflictError } from '../../../../../src/modules/orders/domain/errors.ts';
import type { OrderStatus } from '../../../../../src/modules/orders/domain/status-machine.ts';
import { createCancelOrder } from '../../../../../src/modules/orders/application/cancel-order.ts';
import { createUpdateOrderStatus } from '../../../../../src/modules/orders/application/update-order-status.ts';
import { adminOp, customerOp, errorOf, seedOrder, setUpOrders, valueOf } from '../../../../fakes/orders.ts';

// ADR 0013 for orders: cancelOrder and updateOrderStatus with an optional idempotency key.
const ALICE = 'cust-alice';

function setUp(path: readonly OrderStatus[] = []) {
  const world = setUpOrders();
  world.store.setStock('p-apple', 5);
  const order = seedOrder(world.store, { customerId: ALICE, path, lines: [{ productId: 'p-apple', quantity: 2, unitPriceMinor: 1_999 }] });
  return { ...world, order, cancelOrder: createCancelOrder(world.deps), updateOrderStatus: createUpdateOrderStatus(world.deps) };
}

describe('updateOrderStatus with an idempotency key', () => {
  it('ships once for 20 racing calls with one key, and all 20 answer the same order', async () => {
    const { updateOrderStatus, order, store } = setUp(['PAID']);
    const input = { orderId: order.id, status: 'SHIPPED' as const, expectedVersion: 2, idempotencyKey: 'ship-1' };
    const answers = await Promise.all(Array.from({ length: 20 }, () => updateOrderStatus(adminOp(), input)));
    const shipped = answers.map(valueOf);
    expect(new Set(shipped.map((o) => JSON.stringify(o))).size).toBe(1);
    expect(shipped[0]).toMatchObject({ status: 'SHIPPED', version: 3 });
    expect(store.historyOf(order.id).filter((c) => c.to === 'SHIPPED')).toHaveLength(1);
    expect(store.outboxEntries().filter((c) => c.to === 'SHIPPED')).toHaveLength(1);
  });

  it('replays the first answer after the order moved on, without moving it again', async () => {
    const { updateOrderStatus, order, store } = setUp(['PAID']);
    const input = { orderId: order.id, status: 'SHIPPED' as const, expectedVersion: 2, idempotencyKey: 'ship-2' };
    const first = valueOf(await updateOrderStatus(adminOp(), input));
    valueOf(await updateOrderStatus(adminOp(), { orderId: order.id, status: 'DELIVERED', expectedVersion: 3 }));
    expect(valueOf(await updateOrderStatus(adminOp(), input))).toEqual(first);
    expect(store.orderById(order.id)).toMatchObject({ status: 'DELIVERED', version: 4 });
  });

  it('answers IDEMPOTENCY_KEY_REUSED for the same key with other input, and changes nothing', async () => {
    const { updateOrderStatus, order, store } = setUp(['PAID']);
    valueOf(await updateOrderStatus(adminOp(), { orderId: order.id, status: 'SHIPPED', expectedVersion: 2, idempotencyKey: 'k' }));
    const reused = await updateOrderStatus(adminOp(), { orderId: order.id, status: 'DELIVERED', expectedVersion: 3, idempotencyKey: 'k' });
    expect(errorOf(reused)).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(store.orderById(order.id)).toMatchObject({ status: 'SHIPPED', version: 3 });
  });

  it('refuses a key claimed meanwhile by another request, rolling the status change back', async () => {
    const { updateOrderStatus, order, store } = setUp(['PAID']);
    const other = seedOrder(store, { customerId: ALICE, path: ['PAID'], lines: [{ productId: 'p-apple', quantity: 1, unitPriceMinor: 100 }] });
    const [a, b] = await Promise.all([
      updateOrderStatus(adminOp(), { orderId: order.id, status: 'SHIPPED', expectedVersion: 2, idempotencyKey: 'shared' }),
      updateOrderStatus(adminOp(), { orderId: other.id, status: 'SHIPPED', expectedVersion: 2, idempotencyKey: 'shared' }),
    ]);
    expect(a.ok).toBe(true);
    expect(errorOf(b)).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(store.orderById(other.id)).toMatchObject({ status: 'PAID', version: 2 });
  });

  it('keeps failures unstored: a stale version is VERSION_CONFLICT and the key stays free', async () => {
    const { updateOrderStatus, order } = setUp(['PAID']);
    const stale = await updateOrderStatus(adminOp(), { orderId: order.id, status: 'SHIPPED', expectedVersion: 1, idempotencyKey: 'retry-me' });
    expect(errorOf(stale)).toBeInstanceOf(VersionConflictError);
    const fixed = await updateOrderStatus(adminOp(), { orderId: order.id, status: 'SHIPPED', expectedVersion: 2, idempotencyKey: 'retry-me' });
    expect(valueOf(fixed)).toMatchObject({ status: 'SHIPPED' });
  });

  it('keeps keys apart per caller, and refuses a malformed key', async () => {
    const { updateOrderStatus, order } = setUp(['PAID']);
    valueOf(await updateOrderStatus(adminOp('admin-1'), { orderId: order.id, status: 'SHIPPED', expectedVersion: 2, idempotencyKey: 'k' }));
    const otherAdmin = await updateOrderStatus(adminOp('admin-2'), { orderId: order.id, status: 'DELIVERED', expectedVersion: 3, idempotencyKey: 'k' });
    expect(valueOf(otherAdmin)).toMatchObject({ status: 'DELIVERED' });
    const bad = await updateOrderStatus(adminOp(), { orderId: order.id, status: 'CANCELLED', expectedVersion: 4, idempotencyKey: 'a\nb' });
    expect(errorOf(bad)).toBeInstanceOf(ValidationError);
  });
});

describe('cancelOrder with an idempotency key', () => {
  it('cancels, refunds and restocks once for 20 racing calls with one key; all answer the same order', async () => {
    const { cancelOrder, order, store, payments } = setUp(['PAID']);
    const answers = await Promise.all(Array.from({ length: 20 }, () => cancelOrder(customerOp(ALICE), { orderId: order.id, idempotencyKey: 'cancel-1' })));
    const cancelled = answers.map(valueOf);
    expect(new Set(cancelled.map((o) => JSON.stringify(o))).size).toBe(1);
    expect(cancelled[0]).toMatchObject({ status: 'CANCELLED', version: 3 });
    expect(store.stockOf('p-apple')).toBe(7);
    expect(payments.refunds).toHaveLength(1);
    expect(store.historyOf(order.id).filter((c) => c.to === 'CANCELLED')).toHaveLength(1);
  });

  it('answers IDEMPOTENCY_KEY_REUSED for the same key with another reason', async () => {
    const { cancelOrder, order } = setUp();
    valueOf(await cancelOrder(customerOp(ALICE), { orderId: order.id, reason: 'too slow', idempotencyKey: 'c' }));
    expect(errorOf(await cancelOrder(customerOp(ALICE), { orderId: order.id, reason: 'other', idempotencyKey: 'c' }))).toBeInstanceOf(IdempotencyKeyReusedError);
  });

  it('without a key behaves as before: a second cancel is ILLEGAL_TRANSITION', async () => {
    const { cancelOrder, order } = setUp();
    valueOf(await cancelOrder(customerOp(ALICE), { orderId: order.id }));
    expect(errorOf(await cancelOrder(customerOp(ALICE), { orderId: order.id })).code).toBe('ILLEGAL_TRANSITION');
  });
});
