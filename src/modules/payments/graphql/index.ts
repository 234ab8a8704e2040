import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import { registerPaymentErrors } from './payment.errors.ts';
import { paymentsByOrderId, registerPayment } from './payment.type.ts';

/**
 * Registers the payment types. Payments have no queries or mutations of their own: they are read
 * through `Order.payment` and created by the orders module's mutations.
 * @returns what the orders module builds on: the `Payment` ref and `paymentsByOrderId` (its batch
 * load) for `Order.payment`, `PaymentStatus`, and the `PaymentDeclinedError` ref (the type of
 * placeOrder's decline, which gets an `order` field).
 */
export function registerPaymentsGraphQL(builder: Builder, common: CommonRefs) {
  const { Payment, PaymentStatus } = registerPayment(builder, common);
  const { PaymentDeclinedError } = registerPaymentErrors(builder, common);
  return { Payment, PaymentStatus, PaymentDeclinedError, paymentsByOrderId };
}

/** The refs the payments module offers other modules' GraphQL registrations. */
export type PaymentsRefs = ReturnType<typeof registerPaymentsGraphQL>;
