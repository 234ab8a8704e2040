import type { CrashPoints } from '../../../platform/crash-points.ts';
import { createChargeOrder, createSendCharge, createSettleCharge } from './charge-order.ts';
import { createGetPaymentsByOrderIds } from './get-payments.ts';
import { createListPaymentsToReconcile } from './list-payments-to-reconcile.ts';
import type { PaymentProvider, PaymentRepository, PaymentsUnitOfWork } from './ports.ts';
import { createReconcilePayment } from './reconcile-payment.ts';
import { createRecordProviderEvent } from './record-provider-event.ts';
import { createRefundOrder } from './refund-order.ts';

/** What the payments use cases need for one operation. */
export interface PaymentsApiDeps {
  /**
   * Outside any transaction for charges and refunds: the PENDING row must be committed before
   * the provider is called.
   */
  readonly payments: PaymentRepository;
  readonly uow: PaymentsUnitOfWork;
  /** Process-wide (its circuit breaker is shared). */
  readonly provider: PaymentProvider;
  /** Bound of each provider call, in ms (config `payments.callBudgetMs`). */
  readonly timeoutMs: number;
  readonly crashPoints?: CrashPoints | undefined;
}

/** The payments use cases for one operation; each takes the operation context first. */
export function createPaymentsApi(deps: PaymentsApiDeps) {
  const { payments, provider, timeoutMs } = deps;
  const charging = { payments, provider, timeoutMs, ...(deps.crashPoints ? { crashPoints: deps.crashPoints } : {}) };
  return {
    chargeOrder: createChargeOrder(charging),
    sendCharge: createSendCharge(charging),
    settleCharge: createSettleCharge(charging),
    refundOrder: createRefundOrder({ payments, provider, timeoutMs }),
    getPaymentsByOrderIds: createGetPaymentsByOrderIds({ payments }),
    reconcilePayment: createReconcilePayment({ payments, provider, timeoutMs }),
    listPaymentsToReconcile: createListPaymentsToReconcile({ payments }),
    recordProviderEvent: createRecordProviderEvent({ uow: deps.uow, provider, timeoutMs }),
  };
}

/** What the payments module offers for one operation (the orders module, GraphQL resolvers). */
export type PaymentsApi = ReturnType<typeof createPaymentsApi>;
