// The payments module's contract for other modules: types, use-case signatures and errors. Wiring
// (entity schemas, repositories, providers, webhook signatures, GraphQL registration) is module.ts,
// for the composition root only.
export { PaymentDeclinedError, type Payment, type PaymentStatus } from './domain/payment.ts';
export {
  PaymentProviderUnavailableError,
  type ChargeOutcome,
  type ChargeRequest,
  type PaymentProvider,
  type PaymentStatements,
  type RefundRequest,
} from './application/ports.ts';
export type { PaymentsApi } from './application/api.ts';
export { voidedDecline, type ChargeOrder, type ChargeOrderInput, type SendCharge, type SettleCharge } from './application/charge-order.ts';
export type { RefundOrder } from './application/refund-order.ts';
export type { GetPaymentsByOrderIds } from './application/get-payments.ts';
export type { ReconcilePayment, ReconcilePaymentInput } from './application/reconcile-payment.ts';
export type { ProviderEvent, ProviderEventResult, RecordProviderEvent } from './application/record-provider-event.ts';
