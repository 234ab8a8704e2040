import type { Config } from '../../config.ts';
import { inertChangeFeed, type ChangeFeed, type CommittedChange } from '../../platform/change-feed.ts';
import { noCrashPoints, type CrashPoints } from '../../platform/crash-points.ts';
import type { DoorbellTransport } from '../../platform/doorbell.ts';
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
import type { OrderLogDoorbell } from './application/ports.ts';
import { registerOrdersGraphQL, type OrdersGraphQLDeps } from './graphql/index.ts';
import { EventTargetOrderEvents, toWireChange, type DeliveredChange, type WireChange } from './infrastructure/event-target-order-events.ts';
import { Migration20261121000300Orders } from './infrastructure/migrations/Migration20261121000300Orders.ts';
import { Migration20261204000100OutboxClaims } from './infrastructure/migrations/Migration20261204000100OutboxClaims.ts';
import { Migration20261204000200OrderLog } from './infrastructure/migrations/Migration20261204000200OrderLog.ts';
import { Migration20261204000400OrdersIdempotencyKeys } from './infrastructure/migrations/Migration20261204000400OrdersIdempotencyKeys.ts';
import { OrdersIdempotencyKeyRecord } from './infrastructure/idempotency-key.entity.ts';
import { startOrderIdempotencyKeyPruner } from './infrastructure/mikro-orm-order-idempotency.ts';
import { MikroOrmOrderLog } from './infrastructure/mikro-orm-order-log.ts';
import { MikroOrmOrderReader } from './infrastructure/mikro-orm-order-repository.ts';
import { MikroOrmOrdersUnitOfWork } from './infrastructure/mikro-orm-orders-unit-of-work.ts';
import { catalogAdapter, customersAdapter, paymentsAdapter } from './infrastructure/module-adapters.ts';
import { OrderLineRecord, OrderRecord, OrderStatusChangeRecord } from './infrastructure/order.entities.ts';
import type { LogEntry } from './infrastructure/mikro-orm-order-log.ts';
import { startOrderLogPruner } from './infrastructure/order-log-pruner.ts';
import { startOrderLogReader, type OrderLogReader, type ReadTrigger } from './infrastructure/order-log-reader.ts';
import { OutboxRecord } from './infrastructure/outbox.entity.ts';

// What scripts, benchmarks and tests wire by hand (a log reader of their own, the fan-out, the wire shape).
export { startOrderLogReader, type OrderLogReader, type OrderLogReaderOptions, type ReadTrigger } from './infrastructure/order-log-reader.ts';
export { EventTargetOrderEvents, ORDER_STATUS_TOPIC, toWireChange, type WireChange } from './infrastructure/event-target-order-events.ts';

/** The doorbell channel of the order log: a ring there makes every instance's reader read. */
export const ORDER_LOG_CHANNEL = 'ordergraph:order-log';

/** MikroORM entity schemas of the orders module (also for tooling: migrations, seeding). */
export const ordersEntities = [OrderRecord, OrderLineRecord, OrderStatusChangeRecord, OutboxRecord, OrdersIdempotencyKeyRecord] as const;
/** The orders module's migrations, named as they are recorded in `mikro_orm_migrations`. */
export const ordersMigrations = [
  { name: 'Migration20261121000300Orders', class: Migration20261121000300Orders },
  { name: 'Migration20261204000100OutboxClaims', class: Migration20261204000100OutboxClaims },
  { name: 'Migration20261204000200OrderLog', class: Migration20261204000200OrderLog },
  { name: 'Migration20261204000400OrdersIdempotencyKeys', class: Migration20261204000400OrdersIdempotencyKeys },
] as const;

/** What the orders module is made from: the narrow APIs of the modules it uses, and settings. */
export interface OrdersModuleDeps {
  /** The catalog's API for the same operation, and its stock updates inside an orders transaction. */
  readonly catalog: { readonly forScope: (scope: RequestScope) => CatalogApi; readonly stockReservations: (em: RequestScope['em']) => StockReservations };
  readonly customers: (scope: RequestScope) => CustomersApi;
  /** The payments module's API for the same operation, and its writes embedded in orders' statements. */
  readonly payments: { readonly forScope: (scope: RequestScope) => PaymentsApi; readonly statements: (em: RequestScope['em']) => PaymentStatements };
  /** Rings between the instances' log readers after a commit: Redis, PostgreSQL NOTIFY, or in-process (ADR 0012). */
  readonly doorbell: DoorbellTransport;
  /**
   * Told each change this instance's log reader reads, before its subscribers get it (so a cached
   * read never shows a status older than one pushed): the response cache's invalidation (ADR 0015).
   */
  readonly changes?: ChangeFeed;
  /** Sees each change once per instance when its log reader reads it, `seconds` after it was written (a latency histogram). */
  readonly onEventArrival?: (seconds: number) => void;
  /** Sees each read of the log reader: what triggered it, and the rows it returned (counters). */
  readonly onLogRead?: (trigger: ReadTrigger, rows: number) => void;
  /** ISO 4217 store currency. */
  readonly currency: string;
  /** Bound of each payment call, in ms; a replayed placeOrder waits this plus 1 s for the first call's payment. */
  readonly paymentCallBudgetMs: number;
  readonly orderLog: Config['orderLog'];
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
 * events (the outbox is the log; each instance's log reader fans its changes out to subscriptions;
 * a doorbell rings the readers after a commit: ADR 0012), and four workers: the log reader, the
 * log's retention pruner, the idempotency keys' pruner (ADR 0013) and the payment reconciler (settles payments whose outcome is unknown: at
 * start-up, then periodically).
 */
export function createOrdersModule(deps: OrdersModuleDeps): ModuleDescriptor<'orders', OrdersApi> {
  const events = new EventTargetOrderEvents(
    traceDeliveries(new EventTarget(), {
      system: 'postgresql',
      attributes: (detail) => ({ 'ordergraph.order.id': (detail as DeliveredChange).change.orderId, 'ordergraph.order.version': (detail as DeliveredChange).change.version }),
    }),
  );
  // The reader starts with the workers; until then a ring only reaches the other instances.
  let logReader: OrderLogReader | undefined;
  const doorbell: OrderLogDoorbell = {
    ring: () => {
      logReader?.ring();
      deps.doorbell.ring(ORDER_LOG_CHANNEL);
    },
  };
  const clock = deps.clock ?? (() => new Date());

  const forRequest = (scope: RequestScope): OrdersApi => {
    const reader = new MikroOrmOrderReader(scope.em);
    // Outbox rows carry the operation's trace context, so delivery spans link to this request.
    const wire = (change: Parameters<typeof toWireChange>[0]): WireChange =>
      scope.op.trace?.traceparent ? { ...toWireChange(change), traceparent: scope.op.trace.traceparent } : toWireChange(change);
    return invalidatingWrites(createOrdersApi({
      reader,
      uow: new MikroOrmOrdersUnitOfWork(scope.em, { stockReservations: deps.catalog.stockReservations, paymentStatements: deps.payments.statements, wire }),
      catalog: catalogAdapter(() => deps.catalog.forScope(scope)),
      customers: customersAdapter(() => deps.customers(scope)),
      payments: paymentsAdapter(() => deps.payments.forScope(scope)),
      events,
      log: new MikroOrmOrderLog(scope.em),
      logRetentionMs: deps.orderLog.retentionMs,
      doorbell,
      crashPoints: deps.crashPoints ?? noCrashPoints,
      currency: deps.currency,
      clock,
      settleWaitMs: deps.paymentCallBudgetMs + 1_000,
      logger: deps.logger,
    }), deps.changes ?? inertChangeFeed);
  };

  const workers = (runtime: ModuleRuntime): BackgroundWorker[] => {
    const started = startLogReader(deps, runtime, events);
    logReader = started.reader;
    const pruner = startOrderLogPruner({ em: runtime.fork, retentionMs: deps.orderLog.retentionMs, logger: runtime.logger.child({ component: 'order-log-pruner' }), clock });
    const keyPruner = startOrderIdempotencyKeyPruner({ em: runtime.fork, logger: runtime.logger.child({ component: 'orders-idempotency-pruner' }) });
    return [started.worker, pruner, keyPruner, startReconciler(deps, runtime, clock)];
  };

  return {
    name: 'orders',
    entities: ordersEntities,
    migrations: ordersMigrations,
    forRequest,
    graphql: (builder, refs) => registerOrdersGraphQL(builder, refs.common, foreignRefs(refs), { currency: deps.currency }),
    workers,
    gauges: { orderLogHorizonLag: () => logReader?.horizonLagSeconds() ?? 0 },
  };
}

/**
 * The orders API whose client-facing writes, once committed, tell this instance's response cache
 * at once, so the writer's next read here shows its own write; every instance (this one again)
 * hears the change from its log reader a moment later, products whose stock moved included (ADR 0015).
 */
function invalidatingWrites(api: OrdersApi, changes: ChangeFeed): OrdersApi {
  const told = (order: { readonly id: string; readonly customerId: string }, stockMoved: readonly string[] = []) =>
    changes.local([{ kind: 'order', orderId: order.id, customerId: order.customerId, stockMoved }]);
  return {
    ...api,
    placeOrder: async (op, input, onPlaced) => {
      const result = await api.placeOrder(op, input, onPlaced);
      if (result.ok) told(result.value, input.lines.map((line) => line.productId));
      return result;
    },
    cancelOrder: async (op, input) => {
      const result = await api.cancelOrder(op, input);
      if (result.ok) told(result.value);
      return result;
    },
    updateOrderStatus: async (op, input) => {
      const result = await api.updateOrderStatus(op, input);
      if (result.ok) told(result.value);
      return result;
    },
  };
}

/** What a log entry changed, for the change feed: the order (its lists) and the products whose stock moved. */
const committedChangeOf = (entry: LogEntry): CommittedChange => ({ kind: 'order', orderId: entry.change.orderId, customerId: entry.change.customerId, stockMoved: entry.stockMoved });

/** This instance's log reader, fanning out to `events` and rung by the other instances' commits. */
function startLogReader(deps: OrdersModuleDeps, runtime: ModuleRuntime, events: EventTargetOrderEvents): { reader: OrderLogReader; worker: BackgroundWorker } {
  const changes = deps.changes ?? inertChangeFeed;
  const reader = startOrderLogReader({
    em: runtime.fork,
    deliver: (entry) => {
      // Cached reads of the order go first: no one is pushed a status a read could then contradict.
      changes.local([committedChangeOf(entry)]);
      events.deliver(entry.change, entry.traceparent);
    },
    pollMs: deps.orderLog.pollMs,
    logger: runtime.logger.child({ component: 'order-log-reader' }),
    ...(deps.onLogRead ? { onRead: deps.onLogRead } : {}),
    ...(deps.onEventArrival ? { onArrival: deps.onEventArrival } : {}),
  });
  const stopListening = deps.doorbell.listen(ORDER_LOG_CHANNEL, () => reader.ring());
  const worker: BackgroundWorker = {
    async stop() {
      stopListening();
      await reader.stop();
    },
  };
  return { reader, worker };
}

/** The payment reconciler: at start-up, then every `reconciler.intervalMs`. */
function startReconciler(deps: OrdersModuleDeps, runtime: ModuleRuntime, clock: () => Date): BackgroundWorker {
  const logger = runtime.logger.child({ component: 'payment-reconciler' });
  return startLoop({
    intervalMs: deps.reconciler.intervalMs,
    round: async (signal) => {
      const op = systemContext('reconciler', signal);
      const report = await runtime.apiFor<OrdersApi>('orders', op).reconcileOrders(op, {
        olderThan: new Date(clock().getTime() - deps.reconciler.graceMs),
        limit: deps.reconciler.batch,
        concurrency: deps.reconciler.concurrency,
      });
      if (report.examined > 0) logger.info(report, 'payments reconciled');
    },
    onError: (error) => logger.warn({ err: error }, 'reconciliation round failed'),
  });
}
