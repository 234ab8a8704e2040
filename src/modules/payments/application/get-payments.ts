import type { OpContext } from '../../../platform/op-context.ts';
import type { Payment } from '../domain/payment.ts';
import type { PaymentRepository } from './ports.ts';

/**
 * Loads the payments of orders (for `Order.payment`). Internal: it does no authorization of its
 * own, so the orders module calls it only for orders the viewer may see.
 * @returns one entry per requested order id, in the order of `orderIds`; null where the order has
 * no payment (not charged yet, or no such order).
 */
export type GetPaymentsByOrderIds = (op: OpContext, orderIds: readonly string[]) => Promise<(Payment | null)[]>;

export function createGetPaymentsByOrderIds(deps: { payments: PaymentRepository }): GetPaymentsByOrderIds {
  return async (op, orderIds) => {
    op.signal.throwIfAborted();
    const found = await deps.payments.findByOrderIds([...new Set(orderIds)]);
    const byOrderId = new Map(found.map((payment) => [payment.orderId, payment]));
    return orderIds.map((orderId) => byOrderId.get(orderId) ?? null);
  };
}
