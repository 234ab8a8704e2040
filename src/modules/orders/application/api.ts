import { createApplyPaymentOutcome } from './apply-payment-outcome.ts';
import { createCancelOrder } from './cancel-order.ts';
import type { OrdersDeps } from './deps.ts';
import { createGetOrderLines, createGetOrders, createGetStatusHistory } from './get-orders.ts';
import { createHandleProviderEvent } from './handle-provider-event.ts';
import { createListOrders } from './list-orders.ts';
import { createPlaceOrder } from './place-order.ts';
import { createReconcileOrders } from './reconcile-orders.ts';
import { createUpdateOrderStatus } from './update-order-status.ts';
import { createWatchOrderStatus } from './watch-order-status.ts';

/** The orders use cases for one operation; each takes the operation context first. */
export function createOrdersApi(deps: OrdersDeps) {
  const { reader } = deps;
  return {
    placeOrder: createPlaceOrder(deps),
    cancelOrder: createCancelOrder(deps),
    updateOrderStatus: createUpdateOrderStatus(deps),
    getOrders: createGetOrders({ reader }),
    getOrderLines: createGetOrderLines({ reader }),
    getStatusHistory: createGetStatusHistory({ reader }),
    listOrders: createListOrders({ reader }),
    watchOrderStatus: createWatchOrderStatus({ reader, log: deps.log, events: deps.events, clock: deps.clock, logRetentionMs: deps.logRetentionMs }),
    applyPaymentOutcome: createApplyPaymentOutcome(deps),
    handleProviderEvent: createHandleProviderEvent(deps),
    reconcileOrders: createReconcileOrders(deps),
  };
}

/** What the orders module offers for one operation (GraphQL resolvers, the webhook transport, workers). */
export type OrdersApi = ReturnType<typeof createOrdersApi>;
