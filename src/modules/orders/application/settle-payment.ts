import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import type { Order } from '../domain/order.ts';
import type { OrdersDeps } from './deps.ts';
import type { PaymentDecline } from './ports.ts';
import { transitionOrder } from './transition-order.ts';

/**
 * Records the outcome of an order's charge: PAID, or PAYMENT_FAILED with its stock released, in one
 * transaction with its outbox event. If the order moved on meanwhile (cancelled while the charge
 * was in flight), a successful charge is refunded, so no cancelled order keeps money.
 */
export async function settleAfterPayment(
  op: OpContext,
  deps: OrdersDeps,
  order: Order,
  charged: Result<unknown, PaymentDecline>,
): Promise<Result<Order, PaymentDecline>> {
  const moved = await transitionOrder(op, deps, order, {
    to: charged.ok ? 'PAID' : 'PAYMENT_FAILED',
    actor: 'system:payments',
    reason: charged.ok ? null : `payment declined: ${charged.error.message}`,
  });
  if (moved.ok) return charged.ok ? ok(moved.value) : err(charged.error);
  const [current] = await deps.reader.findByIds([order.id]);
  if (!current) throw new Error(`order ${order.id} vanished while settling its payment`);
  if (charged.ok && (current.status === 'CANCELLED' || current.status === 'PAYMENT_FAILED')) {
    await deps.payments.refund(op, { orderId: order.id });
  }
  return charged.ok ? ok(current) : err(charged.error);
}
