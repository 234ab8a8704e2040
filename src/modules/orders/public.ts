import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../platform/logger.ts';
import type { CatalogUseCases } from '../catalog/public.ts';
import type { CustomersUseCases } from '../customers/public.ts';
import type { PaymentsUseCases } from '../payments/public.ts';
import { createCancelOrder } from './application/cancel-order.ts';
import type { OrdersDeps } from './application/deps.ts';
import { createGetOrderLines, createGetOrders, createGetStatusHistory } from './application/get-orders.ts';
import { createListOrders } from './application/list-orders.ts';
import { createPlaceOrder } from './application/place-order.ts';
import type { OrderEvents, OutboxRelayTrigger } from './application/ports.ts';
import { createApplyPaymentOutcome } from './application/apply-payment-outcome.ts';
import { createReconcileOrders } from './application/reconcile-orders.ts';
import type { CrashPoints } from '../../platform/crash-points.ts';
import { noCrashPoints } from '../../platform/crash-points.ts';
import type { OrderStatusChange } from './domain/order.ts';
import type { WireChange } from './infrastructure/event-target-order-events.ts';
import { createUpdateOrderStatus } from './application/update-order-status.ts';
import { createWatchOrderStatus } from './application/watch-order-status.ts';
import { MikroOrmOrderReader } from './infrastructure/mikro-orm-order-repository.ts';
import { MikroOrmOrdersUnitOfWork } from './infrastructure/mikro-orm-orders-unit-of-work.ts';
import { catalogAdapter, customersAdapter, paymentsAdapter } from './infrastructure/module-adapters.ts';
import { OrderLineRecord, OrderRecord, OrderStatusChangeRecord } from './infrastructure/order.entities.ts';

export type { Order, OrderLine, OrderStatusChange } from './domain/order.ts';
export type { OrderStatus } from './domain/status-machine.ts';
export type { OrderEvents } from './application/ports.ts';
export { EventTargetOrderEvents, ORDER_STATUS_TOPIC, toWireChange, type WireChange } from './infrastructure/event-target-order-events.ts';
export { startOutboxRelay, type OutboxRelayOptions } from './infrastructure/outbox-relay.ts';
export type { OutboxRelayTrigger, PaymentState } from './application/ports.ts';
export type { ReconcileReport } from './application/reconcile-orders.ts';
export { registerOrdersGraphQL } from './graphql/order.ts';

/** MikroORM entity schemas of the orders module. */
export const ordersEntities = [OrderRecord, OrderLineRecord, OrderStatusChangeRecord] as const;

/** What the orders use cases need from the rest of the application for one request. */
export interface OrdersModuleDeps {
  readonly catalog: CatalogUseCases;
  readonly customers: CustomersUseCases;
  readonly payments: PaymentsUseCases;
  readonly events: OrderEvents;
  /** ISO 4217 store currency. */
  readonly currency: string;
  /** Longest wait of an idempotent replay for the first call's payment, in ms. */
  readonly settleWaitMs: number;
  readonly logger: Logger;
  /** Wakes the outbox relay after a commit. */
  readonly outbox: OutboxRelayTrigger;
  /** How a change is serialised into the outbox (default: the plain wire shape). */
  readonly toWire?: (change: OrderStatusChange) => WireChange;
  readonly crashPoints?: CrashPoints;
  readonly clock?: () => Date;
}

/** The orders use cases over one EntityManager fork. Each takes the operation context first. */
export function createOrdersUseCases(em: EntityManager, deps: OrdersModuleDeps) {
  const reader = new MikroOrmOrderReader(em);
  const full: OrdersDeps = {
    reader,
    uow: new MikroOrmOrdersUnitOfWork(em, deps.toWire),
    catalog: catalogAdapter(deps.catalog),
    customers: customersAdapter(deps.customers),
    payments: paymentsAdapter(deps.payments),
    events: deps.events,
    outbox: deps.outbox,
    crashPoints: deps.crashPoints ?? noCrashPoints,
    currency: deps.currency,
    clock: deps.clock ?? (() => new Date()),
    settleWaitMs: deps.settleWaitMs,
    logger: deps.logger,
  };
  return {
    placeOrder: createPlaceOrder(full),
    cancelOrder: createCancelOrder(full),
    updateOrderStatus: createUpdateOrderStatus(full),
    getOrders: createGetOrders({ reader }),
    getOrderLines: createGetOrderLines({ reader }),
    getStatusHistory: createGetStatusHistory({ reader }),
    listOrders: createListOrders({ reader }),
    watchOrderStatus: createWatchOrderStatus({ reader, events: deps.events }),
    applyPaymentOutcome: createApplyPaymentOutcome(full),
    reconcileOrders: createReconcileOrders(full),
  };
}
export type OrdersUseCases = ReturnType<typeof createOrdersUseCases>;
