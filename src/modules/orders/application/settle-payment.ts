import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import type { Order, OrderLine, OrderStatusChange } from '../domain/order.ts';
import type { OrdersDeps } from './deps.ts';
import type { ChargeAnswer, PaymentDecline } from './ports.ts';
import { announceCommitted } from './publish.ts';
import { transitionOrder } from './transition-order.ts';

/**
 * Records the provider's answer to a new order's charge and moves the order with it, in one
 * transaction (issue 12): PAID, or PAYMENT_FAILED with `lines` back in stock. When the payment or
 * the order moved on meanwhile (a webhook or the reconciler settled the payment; the order was
 * cancelled), the answer is settled by the payments module and the order through the status
 * machine instead ({@link settleAfterPayment}).
 * @returns the order, or the decline (the order is then PAYMENT_FAILED, or as it was moved to).
 */
export async function recordChargeAnswer(
  op: OpContext,
  deps: OrdersDeps,
  order: Order,
  lines: readonly OrderLine[],
  answer: ChargeAnswer,
): Promise<Result<Order, PaymentDecline>> {
  const succeeded = answer.outcome === 'SUCCEEDED';
  const change: OrderStatusChange = {
    orderId: order.id,
    customerId: order.customerId,
    version: order.version + 1,
    from: order.status,
    to: succeeded ? 'PAID' : 'PAYMENT_FAILED',
    at: deps.clock(),
    actor: 'system:payments',
    reason: succeeded ? null : `payment declined: ${answer.decline.message}`,
  };
  const release = succeeded ? [] : lines.map((l) => ({ productId: l.productId, quantity: l.quantity }));
  const recorded = await deps.uow.recordPaymentAnswer(change, answer, release);
  if (recorded.order) {
    announceCommitted(deps);
    return succeeded ? ok(recorded.order) : err(answer.decline);
  }
  const charged = await deps.payments.settleCharge(op, { orderId: order.id, answer });
  return settleAfterPayment(op, deps, order, charged);
}

/**
 * Records the outcome of an order's charge: PAID, or PAYMENT_FAILED with its stock released, in one
 * transaction with its outbox event. If the order moved on meanwhile (cancelled while the charge
 * was in flight), a successful charge is refunded, so no cancelled order keeps money.
 */
async function settleAfterPayment(
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
