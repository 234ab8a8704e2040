import type { OpContext } from '../../../platform/op-context.ts';
import { ok, type Result } from '../../../platform/result.ts';
import { refundIdempotencyKey, type Payment } from '../domain/payment.ts';
import type { PaymentProvider, PaymentRepository } from './ports.ts';
import { callProvider } from './provider-call.ts';

/**
 * Refunds an order's payment in full (called by the orders module when it cancels an order). What
 * the result means for the cancellation:
 * - null: the order was never charged; nothing to pay back.
 * - REFUNDED: the money is paid back (now, or by an earlier call, which is returned as is).
 * - DECLINED, unchanged: nothing was taken; nothing to pay back.
 * - PENDING, unchanged: the charge's outcome is not known yet, so nothing is refunded now. The
 *   reconciler settles it and refunds it if the order can no longer be paid.
 * - VOIDED, unchanged: the provider holds no charge.
 *
 * The refund's idempotency key is derived from the order, so retrying after a failure never pays
 * back twice. Run it outside a database transaction (the provider call is slow). No authorization
 * check: only the orders module calls it, for an order it has authorized.
 * @returns the payment as it now stands, or null; never an expected failure.
 * @throws PaymentProviderUnavailableError when the provider failed or did not answer within the
 * timeout (the payment stays SUCCEEDED with its refund requested, and the reconciler retries it); the abort reason when `op.signal` is
 * aborted.
 */
export type RefundOrder = (op: OpContext, input: { readonly orderId: string }) => Promise<Result<Payment | null, never>>;

export function createRefundOrder(deps: {
  payments: PaymentRepository;
  provider: PaymentProvider;
  /** Per provider call, in ms (config `payments.timeoutMs`). */
  timeoutMs: number;
  now?: () => Date;
}): RefundOrder {
  const { payments, provider, timeoutMs } = deps;
  const now = deps.now ?? (() => new Date());
  return async (op, input) => {
    op.signal.throwIfAborted();
    const payment = await payments.findByOrderId(input.orderId);
    if (!payment || payment.status !== 'SUCCEEDED') return ok(payment);
    if (!payment.providerChargeId) throw new Error(`Payment ${payment.id} succeeded without a charge id`);
    const chargeId = payment.providerChargeId;
    // On record before the call, so a refund that fails or is cut off is retried by the reconciler.
    await payments.requestRefund(payment.id, now());
    const { refundId } = await callProvider(op, timeoutMs, (signal) =>
      provider.refund(
        { idempotencyKey: refundIdempotencyKey(payment.orderId), chargeId, amountMinor: payment.amountMinor, currency: payment.currency },
        signal,
      ),
    );
    const at = now();
    // False when a concurrent refund with the same key recorded it first; either way, report what is stored.
    await payments.markRefunded(payment.id, refundId, at);
    return ok(await payments.findByOrderId(payment.orderId));
  };
}
