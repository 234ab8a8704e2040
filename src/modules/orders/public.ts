// The orders module's contract: types, use-case signatures and errors. Wiring (entity schemas,
// repositories, the outbox relay, order events, GraphQL registration) is module.ts, for the
// composition root only.
export type { Order, OrderLine, OrderStatusChange } from './domain/order.ts';
export type { OrderStatus } from './domain/status-machine.ts';
export { CursorExpiredError, IdempotencyKeyReusedError, IllegalTransitionError, OutOfStockError, VersionConflictError } from './domain/errors.ts';
export type { OrderEvents, OrderFilter, OrderOrder, PaymentState } from './application/ports.ts';
export type { OrdersApi } from './application/api.ts';
export type { ApplyPaymentOutcome } from './application/apply-payment-outcome.ts';
export type { GetOrderLines, GetOrders, GetStatusHistory } from './application/get-orders.ts';
export type { HandleProviderEvent } from './application/handle-provider-event.ts';
export type { PlaceOrder, PlacedOrder } from './application/place-order.ts';
export type { OrderStatusEvent, WatchOrderStatus, WatchOrderStatusInput } from './application/watch-order-status.ts';
export type { ReconcileReport } from './application/reconcile-orders.ts';
