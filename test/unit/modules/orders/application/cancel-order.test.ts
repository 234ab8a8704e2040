import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../../../src/platform/errors.ts';
import { IllegalTransitionError, VersionConflictError } from '../../../../../src/modules/orders/domain/errors.ts';
import type { OrderStatus } from '../../../../../src/modules/orders/domain/status-machine.ts';
import { createCancelOrder } from '../../../../../src/modules/orders/application/cancel-order.ts';
import { FIXED_NOW, adminOp, anonymousOp, customerOp, errorOf, seedOrder, setUpOrders, valueOf } from '../../../../fakes/orders.ts';

const ALICE = 'cust-alice';
const BOB = 'cust-bob';

function setUp(path: readonly OrderStatus[] = []) {
  const world = setUpOrders();
  // Stock as it is after the order's reservation.
  world.store.setStock('p-apple', 5);
  world.store.setStock('p-pear', 1);
  const order = seedOrder(world.store, {
    customerId: ALICE,
    path,
    lines: [
      { productId: 'p-apple', quantity: 2, unitPriceMinor: 1_999 },
      { productId: 'p-pear', quantity: 3, unitPriceMinor: 505 },
    ],
  });
  return { ...world, order, cancelOrder: createCancelOrder(world.deps) };
}

describe('cancelOrder', () => {
  it('cancels a PENDING order: CANCELLED, stock back, audit entry, event, no refund', async () => {
    const { cancelOrder, order, store, payments, events } = setUp();

    const cancelled = valueOf(await cancelOrder(customerOp(ALICE), { orderId: order.id, reason: '  changed my mind  ' }));

    expect(cancelled).toMatchObject({ id: order.id, status: 'CANCELLED', version: 2, updatedAt: FIXED_NOW });
    expect(store.orderById(order.id)).toEqual(cancelled);
    expect(store.stockOf('p-apple')).toBe(7);
    expect(store.stockOf('p-pear')).toBe(4);
    const change = {
      orderId: order.id,
      customerId: ALICE,
      version: 2,
      from: 'PENDING',
      to: 'CANCELLED',
      at: FIXED_NOW,
      actor: `customer:${ALICE}`,
      reason: 'changed my mind',
    };
    expect(store.historyOf(order.id).at(-1)).toEqual(change);
    expect(events.deliveredChanges).toEqual([change]);
    expect(payments.refunds).toEqual([]);
  });

  it('cancels a PAID order and refunds it after the cancel is committed', async () => {
    const { cancelOrder, order, store, payments } = setUp(['PAID']);
    const statusAtRefund: (string | undefined)[] = [];
    const refund = payments.refund.bind(payments);
    payments.refund = async (op, request) => {
      statusAtRefund.push(store.orderById(request.orderId)?.status);
      return refund(op, request);
    };

    const cancelled = valueOf(await cancelOrder(customerOp(ALICE), { orderId: order.id }));

    expect(cancelled).toMatchObject({ status: 'CANCELLED', version: 3 });
    expect(payments.refunds).toEqual([order.id]);
    expect(statusAtRefund).toEqual(['CANCELLED']);
    expect(store.stockOf('p-apple')).toBe(7);
    expect(store.historyOf(order.id).at(-1)).toMatchObject({ from: 'PAID', to: 'CANCELLED', reason: null });
  });

  it('keeps the cancel when the refund fails, and logs it for reconciliation', async () => {
    const { cancelOrder, order, store, payments, logger } = setUp(['PAID']);
    payments.refundError = new Error('provider down');

    const cancelled = valueOf(await cancelOrder(customerOp(ALICE), { orderId: order.id }));

    expect(cancelled.status).toBe('CANCELLED');
    expect(store.orderById(order.id)?.status).toBe('CANCELLED');
    expect(payments.refunds).toEqual([order.id]);
    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0]?.[0]).toMatchObject({ orderId: order.id });
  });

  it.each([
    { path: ['PAID', 'SHIPPED'], from: 'SHIPPED' },
    { path: ['PAID', 'SHIPPED', 'DELIVERED'], from: 'DELIVERED' },
    { path: ['PAYMENT_FAILED'], from: 'PAYMENT_FAILED' },
    { path: ['CANCELLED'], from: 'CANCELLED' },
  ] satisfies { path: OrderStatus[]; from: OrderStatus }[])('answers ILLEGAL_TRANSITION for a $from order and changes nothing', async ({ path, from }) => {
    const { cancelOrder, order, store, payments, events } = setUp(path);

    const error = errorOf(await cancelOrder(customerOp(ALICE), { orderId: order.id }));

    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect(error).toMatchObject({ code: 'ILLEGAL_TRANSITION', from, to: 'CANCELLED' });
    expect(store.orderById(order.id)).toEqual(order);
    expect(store.stockOf('p-apple')).toBe(5);
    expect(payments.refunds).toEqual([]);
    expect(events.deliveredChanges).toEqual([]);
  });

  it("answers another customer's order exactly like a missing id (NOT_FOUND), changing nothing", async () => {
    const { cancelOrder, order, store } = setUp();

    const others = errorOf(await cancelOrder(customerOp(BOB), { orderId: order.id }));
    const missing = errorOf(await cancelOrder(customerOp(BOB), { orderId: 'no-such-order' }));

    expect(others).toBeInstanceOf(NotFoundError);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect({ ...others, message: others.message }).toEqual({ ...missing, message: missing.message });
    expect(store.orderById(order.id)).toEqual(order);
    expect(store.stockOf('p-apple')).toBe(5);
  });

  it("lets an admin cancel a customer's order, recorded as the admin", async () => {
    const { cancelOrder, order, store } = setUp(['PAID']);

    const cancelled = valueOf(await cancelOrder(adminOp('admin-7'), { orderId: order.id, reason: 'fraud' }));

    expect(cancelled.status).toBe('CANCELLED');
    expect(store.historyOf(order.id).at(-1)).toMatchObject({ actor: 'admin:admin-7', reason: 'fraud' });
  });

  it('answers UNAUTHENTICATED to anonymous callers', async () => {
    const { cancelOrder, order, store } = setUp();

    const error = errorOf(await cancelOrder(anonymousOp(), { orderId: order.id }));

    expect(error).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(store.orderById(order.id)).toEqual(order);
  });

  it('answers VERSION_CONFLICT for a stale expectedVersion, and accepts the current one', async () => {
    const { cancelOrder, order, store } = setUp(['PAID']);

    const error = errorOf(await cancelOrder(customerOp(ALICE), { orderId: order.id, expectedVersion: 1 }));

    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ code: 'VERSION_CONFLICT', expectedVersion: 1, actualVersion: 2 });
    expect(store.orderById(order.id)).toEqual(order);

    const cancelled = valueOf(await cancelOrder(customerOp(ALICE), { orderId: order.id, expectedVersion: 2 }));
    expect(cancelled.version).toBe(3);
  });

  it('limits the reason to 500 characters (VALIDATION_FAILED on input.reason)', async () => {
    const { cancelOrder, order, store } = setUp();

    const error = errorOf(await cancelOrder(customerOp(ALICE), { orderId: order.id, reason: 'x'.repeat(501) }));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([['input', 'reason']]);
    expect(store.orderById(order.id)).toEqual(order);

    valueOf(await cancelOrder(customerOp(ALICE), { orderId: order.id, reason: 'x'.repeat(500) }));
  });

  it('stores a blank reason as null', async () => {
    const { cancelOrder, order, store } = setUp();

    valueOf(await cancelOrder(customerOp(ALICE), { orderId: order.id, reason: '   ' }));

    expect(store.historyOf(order.id).at(-1)?.reason).toBeNull();
  });
});
