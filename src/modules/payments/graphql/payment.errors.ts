import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import { PaymentDeclinedError } from '../domain/payment.ts';

/**
 * Registers PaymentDeclinedError, a member of placeOrder's result union; the orders module adds
 * its `order` field.
 */
export function registerPaymentErrors(builder: Builder, common: CommonRefs) {
  const PaymentDeclined = builder.objectType(PaymentDeclinedError, {
    name: 'PaymentDeclinedError',
    description: 'PAYMENT_DECLINED: the payment provider refused the charge; nothing was taken.',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof PaymentDeclinedError,
    fields: (t) => ({
      declineCode: t.exposeString('declineCode', { description: 'Why the provider declined, e.g. "insufficient_funds".' }),
    }),
  });
  return { PaymentDeclinedError: PaymentDeclined };
}
