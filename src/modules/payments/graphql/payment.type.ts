import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import type { GraphQLContext } from '../../../graphql/context.ts';
import type { Payment } from '../domain/payment.ts';

/**
 * Registers Payment with its PaymentStatus enum. Payments have no queries of their own: they are
 * read through `Order.payment` (see {@link paymentsByOrderId}).
 */
export function registerPayment(builder: Builder, common: CommonRefs) {
  const PaymentStatus = builder.enumType('PaymentStatus', {
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
      status: t.expose('status', { type: PaymentStatus }),
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
  return { Payment: PaymentRef, PaymentStatus };
}

/**
 * The batch load behind `Order.payment`, offered to the orders module's GraphQL so that it never
 * calls the payments use cases itself. It does no authorization: call it only with ids of orders
 * the viewer may see (the parents of `Order.payment` are).
 * @returns one entry per order id, in the order of `orderIds`; null where the order has no payment yet.
 */
export function paymentsByOrderId(orderIds: readonly string[], ctx: GraphQLContext): Promise<(Payment | null)[]> {
  return ctx.payments.getPaymentsByOrderIds(ctx.op, orderIds);
}
