import type { OpContext } from '../../../platform/op-context.ts';
import { chargeIdempotencyKey, refundIdempotencyKey, type Payment } from '../domain/payment.ts';
import { newPendingPayment } from './charge-order.ts';
import type { PaymentProvider, PaymentRepository } from './ports.ts';
import { callProvider } from './provider-call.ts';

/** What the reconciler knows about an order whose payment outcome is unknown. */
export interface ReconcilePaymentInput {
  readonly orderId: string;
  /** The order's total, in integer minor units of `currency`. */
  readonly amountMinor: number;
  readonly currency: string;
  /** False when the order can no longer be paid (cancelled, failed): any charge found is refunded. */
  readonly payable: boolean;
}

/**
 * Settles a payment whose outcome is unknown by asking the provider for the charge made with the
 * order's idempotency key (the crash and timeout recovery of issue #3):
 * - a charge exists → SUCCEEDED; if the order can no longer be paid it is refunded → REFUNDED;
 * - no charge → VOIDED (a charge still in flight that lands later is refunded by chargeOrder);
 * - already settled → as it is, except that a SUCCEEDED payment of an unpayable order, or one
 *   whose refund was requested, is refunded.
 * Must only be called after a grace period longer than a whole charge call, so that "no charge"
 * means no request is still on its way.
 * @returns the payment as it now stands.
 * @throws PaymentProviderUnavailableError when the provider cannot be asked (try again later).
 */
export type ReconcilePayment = (op: OpContext, input: ReconcilePaymentInput) => Promise<Payment>;

export function createReconcilePayment(deps: {
  payments: PaymentRepository;
  provider: PaymentProvider;
  timeoutMs: number;
  now?: () => Date;
}): ReconcilePayment {
  const { payments, provider, timeoutMs } = deps;
  const now = deps.now ?? (() => new Date());

  const refund = async (op: OpContext, payment: Payment, chargeId: string): Promise<Payment> => {
    await payments.requestRefund(payment.id, now());
    const { refundId } = await callProvider(op, timeoutMs, (signal) =>
      provider.refund({ idempotencyKey: refundIdempotencyKey(payment.orderId), chargeId, amountMinor: payment.amountMinor, currency: payment.currency }, signal),
    );
    await payments.markRefunded(payment.id, refundId, now(), payment.status === 'VOIDED' ? chargeId : undefined);
    return (await payments.findByOrderId(payment.orderId))!;
  };

  return async (op, input) => {
    op.signal.throwIfAborted();
    let payment = await payments.findByOrderId(input.orderId);
    if (!payment) {
      // The row is written before any provider call, so no row means nothing was sent; a VOIDED row
      // records that and stops a late first call from charging.
      const pending = newPendingPayment(input, now());
      await payments.insertPending(pending);
      payment = (await payments.findByOrderId(input.orderId))!;
    }
    if (payment.status === 'DECLINED' || payment.status === 'REFUNDED') return payment;
    if (payment.status === 'SUCCEEDED') {
      const wantsRefund = !input.payable || payment.refundRequestedAt !== null;
      return wantsRefund ? refund(op, payment, payment.providerChargeId!) : payment;
    }
    const charge = await callProvider(op, timeoutMs, (signal) => provider.findCharge(chargeIdempotencyKey(input.orderId), signal));
    const at = now();
    if (payment.status === 'VOIDED') {
      // Closed earlier as never charged; a charge that surfaced since is paid back.
      if (charge?.status === 'REFUNDED') {
        // Refunded at the provider already (e.g. the process died before recording it): record it.
        await payments.markRefunded(payment.id, charge.refundId ?? `refund-of-${charge.chargeId}`, now(), charge.chargeId);
        return (await payments.findByOrderId(input.orderId))!;
      }
      return charge ? refund(op, payment, charge.chargeId) : payment;
    }
    if (!charge) {
      await payments.markVoided(payment.id, at);
    } else {
      await payments.markSucceeded(payment.id, charge.chargeId, at);
    }
    const settled = (await payments.findByOrderId(input.orderId))!;
    if (settled.status === 'SUCCEEDED' && (charge?.status === 'REFUNDED' || !input.payable)) {
      return charge?.status === 'REFUNDED'
        ? markRefundedAtProvider(settled)
        : refund(op, settled, settled.providerChargeId!);
    }
    return settled;

    async function markRefundedAtProvider(succeeded: Payment): Promise<Payment> {
      await payments.markRefunded(succeeded.id, charge?.refundId ?? `refund-of-${succeeded.providerChargeId}`, now());
      return (await payments.findByOrderId(input.orderId))!;
    }
  };
}
