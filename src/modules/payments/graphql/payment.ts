import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import { PaymentDeclinedError, type Payment } from '../domain/payment.ts';

/**
 * Registers the payment types. Payments have no queries or mutations of their own: they are read
 * through `Order.payment` and created by the orders module's mutations.
 * @returns the refs the orders module builds on: `Payment` for `Order.payment`, `PaymentStatus`,
 * and `PaymentDeclinedError` for placeOrder's `errors.types` (and its `order` field).
 */
export function registerPaymentsGraphQL(builder: Builder, common: CommonRefs) {
  const PaymentStatusRef = builder.enumType('PaymentStatus', {
    values: {
      PENDING: { description: 'The charge was sent; its outcome is not known yet.' },
      SUCCEEDED: { description: 'The amount was charged.' },
      DECLINED: { description: 'The provider refused the charge; nothing was taken.' },
      VOIDED: { description: 'The outcome could not be confirmed in time and the provider holds no charge: the attempt was closed, nothing was taken.' },
      REFUNDED: { description: 'The charge was paid back in full.' },
    } as const,
  });

  const PaymentRef = builder.objectRef<Payment>('Payment').implement({
    description: 'The charge of an order.',
    fields: (t) => ({
      status: t.expose('status', { type: PaymentStatusRef }),
      amount: t.field({ type: common.Money, resolve: (payment) => ({ minor: payment.amountMinor, currency: payment.currency }) }),
      providerReference: t.exposeString('providerChargeId', {
        nullable: true,
        description: "The payment provider's id of the charge, once it succeeded.",
      }),
      declineCode: t.exposeString('declineCode', { nullable: true, description: 'Why the provider declined, e.g. "insufficient_funds".' }),
      declineMessage: t.exposeString('declineMessage', { nullable: true }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
      refundedAt: t.expose('refundedAt', { type: 'DateTime', nullable: true }),
      attempts: t.exposeInt('attemptCount', { description: 'Calls made to the payment provider for this charge.' }),
    }),
  });

  const PaymentDeclinedErrorRef = builder.objectType(PaymentDeclinedError, {
    name: 'PaymentDeclinedError',
    description: 'PAYMENT_DECLINED: the payment provider refused the charge; nothing was taken.',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof PaymentDeclinedError,
    fields: (t) => ({
      declineCode: t.exposeString('declineCode', { description: 'Why the provider declined, e.g. "insufficient_funds".' }),
    }),
  });

  return { Payment: PaymentRef, PaymentStatus: PaymentStatusRef, PaymentDeclinedError: PaymentDeclinedErrorRef };
}

export type PaymentsRefs = ReturnType<typeof registerPaymentsGraphQL>;
