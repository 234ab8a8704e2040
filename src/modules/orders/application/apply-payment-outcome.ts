import type { OpContext } from '../../../platform/op-context.ts';
import type { Order } from '../domain/order.ts';
import type { OrdersDeps } from './deps.ts';
import type { PaymentState } from './ports.ts';
import { transitionOrder } from './transition-order.ts';

/**
 * Brings an order in line with what is now known of its payment (a webhook, the reconciler),
 * through the status machine, idempotently:
 * - SUCCEEDED: a PENDING order becomes PAID; an order that can no longer be paid (cancelled or
 *   failed meanwhile) has the charge refunded.
 * - DECLINED or VOIDED: a PENDING order becomes PAYMENT_FAILED, its stock released.
 * - REFUNDED by the provider: a PAID order is CANCELLED (restocked); a PENDING one PAYMENT_FAILED.
 * - PENDING: nothing yet.
 * Anything else (already there, or beyond, e.g. SHIPPED) is left as it is.
 * @returns the order as it now stands, or undefined when no such order exists.
 */
export type ApplyPaymentOutcome = (op: OpContext, input: { readonly orderId: string; readonly payment: PaymentState }) => Promise<Order | undefined>;

export function createApplyPaymentOutcome(deps: OrdersDeps): ApplyPaymentOutcome {
  return async (op, { orderId, payment }) => {
    const [order] = await deps.reader.findByIds([orderId]);
    if (!order) return undefined;
    const target =
      payment === 'SUCCEEDED' ? 'PAID' : payment === 'DECLINED' || payment === 'VOIDED' ? 'PAYMENT_FAILED' : payment === 'REFUNDED' ? (order.status === 'PAID' ? 'CANCELLED' : 'PAYMENT_FAILED') : undefined;
    if (payment === 'SUCCEEDED' && (order.status === 'CANCELLED' || order.status === 'PAYMENT_FAILED')) {
      await deps.payments.refund(op, { orderId });
      return order;
    }
    if (!target || (order.status !== 'PENDING' && !(order.status === 'PAID' && target === 'CANCELLED'))) return order;
    const reason =
      payment === 'VOIDED'
        ? 'payment could not be confirmed; the provider holds no charge'
        : payment === 'DECLINED'
          ? 'payment declined'
          : payment === 'REFUNDED'
            ? 'refunded by the payment provider'
            : null;
    const moved = await transitionOrder(op, deps, order, { to: target, actor: 'system:payments', reason });
    if (moved.ok) return moved.value;
    // Someone moved it meanwhile (a cancellation racing the payment): a charge must not stay with
    // an order that can no longer be paid.
    const [current] = await deps.reader.findByIds([orderId]);
    if (current && payment === 'SUCCEEDED' && (current.status === 'CANCELLED' || current.status === 'PAYMENT_FAILED')) {
      await deps.payments.refund(op, { orderId });
    }
    return current;
  };
}
