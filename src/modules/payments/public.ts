import type { EntityManager } from '@mikro-orm/postgresql';
import { createChargeOrder } from './application/charge-order.ts';
import { createGetPaymentsByOrderIds } from './application/get-payments.ts';
import type { PaymentProvider } from './application/ports.ts';
import { createListPaymentsToReconcile } from './application/list-payments-to-reconcile.ts';
import { createReconcilePayment } from './application/reconcile-payment.ts';
import { createRecordProviderEvent } from './application/record-provider-event.ts';
import { createRefundOrder } from './application/refund-order.ts';
import type { CrashPoints } from '../../platform/crash-points.ts';
import { MikroOrmPaymentRepository, MikroOrmPaymentsUnitOfWork } from './infrastructure/mikro-orm-payment-repository.ts';
import { PaymentRecord, ProviderEventRecord } from './infrastructure/payment.entity.ts';

export { PaymentDeclinedError, type Payment, type PaymentStatus } from './domain/payment.ts';
export {
  PaymentProviderUnavailableError,
  type ChargeOutcome,
  type ChargeRequest,
  type PaymentProvider,
  type RefundRequest,
} from './application/ports.ts';
export { voidedDecline, type ChargeOrder, type ChargeOrderInput } from './application/charge-order.ts';
export type { RefundOrder } from './application/refund-order.ts';
export type { GetPaymentsByOrderIds } from './application/get-payments.ts';
export type { ReconcilePayment, ReconcilePaymentInput } from './application/reconcile-payment.ts';
export type { ProviderEvent, ProviderEventResult, RecordProviderEvent } from './application/record-provider-event.ts';
export { createHttpPaymentProvider, type HttpPaymentProviderOptions } from './infrastructure/http-payment-provider.ts';
export { verifyWebhookSignature, signWebhook, parseProviderEvent, type SignatureCheck } from './infrastructure/webhook.ts';
export { createPaymentProvider } from './infrastructure/provider-factory.ts';
export { HttpPaymentProvider } from './infrastructure/http-payment-provider.ts';
export {
  SimulatedPaymentProvider,
  type SimulatedCharge,
  type SimulatedPaymentProviderOptions,
  type SimulatedRefund,
} from './infrastructure/simulated-payment-provider.ts';
export { registerPaymentsGraphQL, type PaymentsRefs } from './graphql/payment.ts';

/** MikroORM entity schemas of the payments module, for the ORM set-up. */
export const paymentsEntities = [PaymentRecord, ProviderEventRecord] as const;

/**
 * The payments use cases over one EntityManager fork, for the orders module (charge, refund, read
 * `Order.payment`). Use an EntityManager outside any transaction for charges and refunds: the
 * PENDING row must be committed before the provider is called. `provider` is shared by the whole
 * process (see createPaymentProvider); `timeoutMs` bounds each provider call (config
 * `payments.timeoutMs`). Each use case takes the operation context first.
 */
export function createPaymentsUseCases(em: EntityManager, deps: { provider: PaymentProvider; timeoutMs: number; crashPoints?: CrashPoints }) {
  const payments = new MikroOrmPaymentRepository(em);
  const { provider, timeoutMs } = deps;
  return {
    chargeOrder: createChargeOrder({ payments, provider, timeoutMs, ...(deps.crashPoints ? { crashPoints: deps.crashPoints } : {}) }),
    refundOrder: createRefundOrder({ payments, provider, timeoutMs }),
    getPaymentsByOrderIds: createGetPaymentsByOrderIds({ payments }),
    reconcilePayment: createReconcilePayment({ payments, provider, timeoutMs }),
    listPaymentsToReconcile: createListPaymentsToReconcile({ payments }),
    recordProviderEvent: createRecordProviderEvent({ uow: new MikroOrmPaymentsUnitOfWork(em), provider, timeoutMs }),
  };
}
export type PaymentsUseCases = ReturnType<typeof createPaymentsUseCases>;
