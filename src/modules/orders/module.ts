import type { Config } from '../../config.ts';
import { noCrashPoints, type CrashPoints } from '../../platform/crash-points.ts';
import type { Logger } from '../../platform/logger.ts';
import { systemContext } from '../../platform/op-context.ts';
import type { RequestScope } from '../../platform/request-scope.ts';
import { traceDeliveries } from '../../platform/telemetry/tracing.ts';
import { startLoop, type BackgroundWorker } from '../../platform/worker-pool.ts';
import type { CatalogApi, StockReservations } from '../catalog/public.ts';
import type { CustomersApi } from '../customers/public.ts';
import type { GraphQLRefs, ModuleDescriptor, ModuleRuntime } from '../module-descriptor.ts';
import { PaymentDeclinedError, type PaymentStatements, type PaymentsApi } from '../payments/public.ts';
import { createOrdersApi, type OrdersApi } from './application/api.ts';
import type { OutboxRelayTrigger } from './application/ports.ts';
import { registerOrdersGraphQL, type OrdersGraphQLDeps } from './graphql/index.ts';
import { EventTargetOrderEvents, toWireChange, type WireChange } from './infrastructure/event-target-order-events.ts';
import { Migration20261121000300Orders } from './infrastructure/migrations/Migration20261121000300Orders.ts';
import { Migration20261204000100OutboxClaims } from './infrastructure/migrations/Migration20261204000100OutboxClaims.ts';
import { MikroOrmOrderReader } from './infrastructure/mikro-orm-order-repository.ts';
import { MikroOrmOrdersUnitOfWork } from './infrastructure/mikro-orm-orders-unit-of-work.ts';
import { catalogAdapter, customersAdapter, paymentsAdapter } from './infrastructure/module-adapters.ts';
import { OrderLineRecord, OrderRecord, OrderStatusChangeRecord } from './infrastructure/order.entities.ts';
import { OutboxRecord } from './infrastructure/outbox.entity.ts';
import { startOutboxRelay } from './infrastructure/outbox-relay.ts';

// What scripts and tests wire by hand (an outbox relay of their own, the event wire shape).
export { startOutboxRelay, type OutboxRelayOptions } from './infrastructure/outbox-relay.ts';
export { EventTargetOrderEvents, ORDER_STATUS_TOPIC, toWireChange, type WireChange } from './infrastructure/event-target-order-events.ts';

/** MikroORM entity schemas of the orders module (also for tooling: migrations, seeding). */
export const ordersEntities = [OrderRecord, OrderLineRecord, OrderStatusChangeRecord, OutboxRecord] as const;
/** The orders module's migrations, named as they are recorded in `mikro_orm_migrations`. */
export const ordersMigrations = [
  { name: 'Migration20261121000300Orders', class: Migration20261121000300Orders },
  { name: 'Migration20261204000100OutboxClaims', class: Migration20261204000100OutboxClaims },
] as const;

/** What the orders module is made from: the narrow APIs of the modules it uses, and settings. */
export interface OrdersModuleDeps {
  /** The catalog's API for the same operation, and its stock updates inside an orders transaction. */
  readonly catalog: { readonly forScope: (scope: RequestScope) => CatalogApi; readonly stockReservations: (em: RequestScope['em']) => StockReservations };
  readonly customers: (scope: RequestScope) => CustomersApi;
  /** The payments module's API for the same operation, and its writes embedded in orders' statements. */
  readonly payments: { readonly forScope: (scope: RequestScope) => PaymentsApi; readonly statements: (em: RequestScope['em']) => PaymentStatements };
  /** Pub/sub of committed status changes: an in-process EventTarget, or Redis's between instances. */
  readonly transport: { readonly target: EventTarget; readonly system: 'in-process' | 'redis' };
  /** Sees each change once per instance, `seconds` after it was committed (a latency histogram). */
  readonly onEventArrival?: (seconds: number) => void;
  /** ISO 4217 store currency. */
  readonly currency: string;
  /** Bound of each payment call, in ms; a replayed placeOrder waits this plus 1 s for the first call's payment. */
  readonly paymentCallBudgetMs: number;
  readonly outbox: Config['outbox'];
  readonly reconciler: Config['reconciler'];
  readonly logger: Logger;
  readonly crashPoints?: CrashPoints;
  readonly clock?: () => Date;
}

/**
 * The refs order fields point at, from the registrations of customers, catalog and payments (which
 * the composition root runs before this one).
 * @throws Error when one of them has not registered yet (a wiring mistake, at start-up).
 */
function foreignRefs(refs: GraphQLRefs): OrdersGraphQLDeps {
  const offered = <T,>(module: string): T => {
    const found = refs[module];
    if (!found) throw new Error(`the orders GraphQL needs the ${module} module's types registered first`);
    return found as T;
  };
  const { Customer } = offered<Pick<OrdersGraphQLDeps, 'Customer'>>('customers');
  const { Product } = offered<Pick<OrdersGraphQLDeps, 'Product'>>('catalog');
  const payments = offered<Pick<OrdersGraphQLDeps, 'Payment' | 'paymentsByOrderId'> & { PaymentDeclinedError: OrdersGraphQLDeps['PaymentDeclinedErrorRef'] }>('payments');
  return { Customer, Product, Payment: payments.Payment, paymentsByOrderId: payments.paymentsByOrderId, PaymentDeclinedError, PaymentDeclinedErrorRef: payments.PaymentDeclinedError };
}

/**
 * The orders module: placing, pricing and paying orders, the status machine and its history, order
 * events (transactional outbox → pub/sub → subscriptions), and two workers: the outbox relay and
 * the payment reconciler (settles payments whose outcome is unknown: at start-up, then periodically).
 */
export function createOrdersModule(deps: OrdersModuleDeps): ModuleDescriptor<'orders', OrdersApi> {
  const events = new EventTargetOrderEvents(
    traceDeliveries(deps.transport.target, {
      system: deps.transport.system,
      attributes: (detail) => ({ 'ordergraph.order.id': (detail as WireChange).orderId, 'ordergraph.order.version': (detail as WireChange).version }),
      onArrival: (detail) => deps.onEventArrival?.((Date.now() - Date.parse((detail as WireChange).at)) / 1_000),
    }),
  );
  // The relay starts with the workers; until then a commit has nobody to wake (it polls at start).
  let relay: OutboxRelayTrigger | undefined;
  const outbox: OutboxRelayTrigger = { nudge: () => relay?.nudge() };
  const clock = deps.clock ?? (() => new Date());

  const forRequest = (scope: RequestScope): OrdersApi => {
    const reader = new MikroOrmOrderReader(scope.em);
    // Outbox rows carry the operation's trace context, so delivery spans link to this request.
    const wire = (change: Parameters<typeof toWireChange>[0]): WireChange =>
      scope.op.trace?.traceparent ? { ...toWireChange(change), traceparent: scope.op.trace.traceparent } : toWireChange(change);
    return createOrdersApi({
      reader,
      uow: new MikroOrmOrdersUnitOfWork(scope.em, { stockReservations: deps.catalog.stockReservations, paymentStatements: deps.payments.statements, wire }),
      catalog: catalogAdapter(() => deps.catalog.forScope(scope)),
      customers: customersAdapter(() => deps.customers(scope)),
      payments: paymentsAdapter(() => deps.payments.forScope(scope)),
      events,
      outbox,
      crashPoints: deps.crashPoints ?? noCrashPoints,
      currency: deps.currency,
      clock,
      settleWaitMs: deps.paymentCallBudgetMs + 1_000,
      logger: deps.logger,
    });
  };

  const workers = (runtime: ModuleRuntime): BackgroundWorker[] => {
    const started = startOutboxRelay({
      em: runtime.fork,
      sink: events,
      logger: runtime.logger.child({ component: 'outbox-relay' }),
      concurrency: deps.outbox.concurrency,
      batchSize: deps.outbox.batch,
      pollIntervalMs: deps.outbox.pollIntervalMs,
    });
    relay = started;
    const reconcilerLogger = runtime.logger.child({ component: 'payment-reconciler' });
    const reconciler = startLoop({
      intervalMs: deps.reconciler.intervalMs,
      round: async (signal) => {
        const op = systemContext('reconciler', signal);
        const report = await runtime.apiFor<OrdersApi>('orders', op).reconcileOrders(op, {
          olderThan: new Date(clock().getTime() - deps.reconciler.graceMs),
          limit: deps.reconciler.batch,
          concurrency: deps.reconciler.concurrency,
        });
        if (report.examined > 0) reconcilerLogger.info(report, 'payments reconciled');
      },
      onError: (error) => reconcilerLogger.warn({ err: error }, 'reconciliation round failed'),
    });
    return [started, reconciler];
  };

  return {
    name: 'orders',
    entities: ordersEntities,
    migrations: ordersMigrations,
    forRequest,
    graphql: (builder, refs) => registerOrdersGraphQL(builder, refs.common, foreignRefs(refs), { currency: deps.currency }),
    workers,
  };
}
