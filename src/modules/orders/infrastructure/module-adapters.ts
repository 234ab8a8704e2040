import type { CatalogApi } from '../../catalog/public.ts';
import { discountPercentOf, type CustomersApi } from '../../customers/public.ts';
import { PaymentDeclinedError, voidedDecline, type PaymentsApi } from '../../payments/public.ts';
import type { CustomerDirectory, OrderPayments, ProductCatalog } from '../application/ports.ts';

// Each adapter takes the other module's API for this operation as a getter: building the orders
// API (for a subscription, say) must not build every module it might call (memory per socket).

/** The catalog's public use cases, seen through the orders module's {@link ProductCatalog} port. */
export function catalogAdapter(catalog: () => CatalogApi): ProductCatalog {
  return {
    getForPricing: (op, ids) => catalog().getProducts(op, ids),
  };
}

/** The customers module's public use cases, seen through {@link CustomerDirectory}. */
export function customersAdapter(customers: () => CustomersApi): CustomerDirectory {
  return {
    async discountPercentFor(op, customerId) {
      const tier = await customers().getPricingTier(op, customerId);
      return tier === undefined ? undefined : discountPercentOf(tier);
    },
  };
}

/** The payments module's public use cases, seen through {@link OrderPayments}. */
export function paymentsAdapter(payments: () => PaymentsApi): OrderPayments {
  return {
    async sendCharge(op, request) {
      const answer = await payments().sendCharge(op, request);
      if (answer.outcome === 'SUCCEEDED') return answer;
      return { ...answer, decline: new PaymentDeclinedError(request.orderId, answer.code, answer.message) };
    },
    settleCharge: (op, { orderId, answer }) => payments().settleCharge(op, { orderId, answer }),
    async refund(op, request) {
      await payments().refundOrder(op, request);
    },
    async declineOf(op, orderId) {
      const [payment] = await payments().getPaymentsByOrderIds(op, [orderId]);
      if (payment?.status === 'DECLINED') return PaymentDeclinedError.of(payment);
      if (payment?.status === 'VOIDED') return voidedDecline(orderId);
      return undefined;
    },
    async reconcile(op, request) {
      return (await payments().reconcilePayment(op, request)).status;
    },
    async listToReconcile(op, query) {
      return [...new Set((await payments().listPaymentsToReconcile(op, query)).map((p) => p.orderId))];
    },
    async recordProviderEvent(op, event) {
      const result = await payments().recordProviderEvent(op, event);
      return { applied: result.applied, orderId: result.orderId, payment: result.payment?.status ?? null };
    },
  };
}
