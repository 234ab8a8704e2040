import type { CatalogApi } from '../../catalog/public.ts';
import { discountPercentOf, type CustomersApi } from '../../customers/public.ts';
import { PaymentDeclinedError, voidedDecline, type PaymentsApi } from '../../payments/public.ts';
import type { CustomerDirectory, OrderPayments, ProductCatalog } from '../application/ports.ts';

// Each adapter takes the other module's API for this operation as a getter: building the orders
// API (for a subscription, say) must not build every module it might call (memory per socket).

/** The catalog's public use cases, seen through the orders module's {@link ProductCatalog} port. */
export function catalogAdapter(catalog: () => CatalogApi): ProductCatalog {
  return {
    async getForPricing(op, ids) {
      const products = await catalog().getProducts(op, ids);
      return products.map((p) => (p ? { id: p.id, name: p.name, priceMinor: p.priceMinor, active: p.active } : null));
    },
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
    charge: (op, request) => payments().chargeOrder(op, request),
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
