import type { GraphQLSchema } from 'graphql';
import { loadConfig, type Config } from './config.ts';
import { buildSchema } from './graphql/schema.ts';
import { sharedMigrations } from './migrations/shared.ts';
import { catalogEntities, catalogMigrations, createCatalogModule } from './modules/catalog/module.ts';
import { createCustomersModule, customersEntities, customersMigrations } from './modules/customers/module.ts';
import type { AttemptThrottle } from './modules/customers/public.ts';
import { createOrdersModule, ordersEntities, ordersMigrations } from './modules/orders/module.ts';
import { createPaymentProvider, createPaymentsModule, paymentsEntities, paymentsMigrations, type PaymentsModuleDeps } from './modules/payments/module.ts';
import type { NamedMigration } from './platform/db/orm.ts';
import type { ChangeFeed } from './platform/change-feed.ts';
import type { CrashPoints } from './platform/crash-points.ts';
import { eventTargetDoorbell, type DoorbellTransport } from './platform/doorbell.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import type { RequestScope, ScopeWith } from './platform/request-scope.ts';

/** Every module's MikroORM entity schemas (tooling: migrations, seeding, test databases). */
export const allEntities = [...customersEntities, ...catalogEntities, ...ordersEntities, ...paymentsEntities];

/** Every migration, in the order it runs (by name: a timestamp). Append new ones; never edit one that shipped. */
export const allMigrations: readonly NamedMigration[] = inNameOrder([customersMigrations, catalogMigrations, ordersMigrations, paymentsMigrations, sharedMigrations].flat());

/** Migrations sorted by name (each starts with its UTC timestamp). */
export function inNameOrder(migrations: readonly NamedMigration[]): NamedMigration[] {
  return [...migrations].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The process-wide parts the modules are made from (chosen by the composition root). */
export interface ModuleWiring {
  readonly logger: Logger;
  readonly paymentProvider: PaymentsModuleDeps['provider'];
  /** Rings between the instances' order log readers: Redis, PostgreSQL NOTIFY, or in-process (ADR 0012). */
  readonly doorbell: DoorbellTransport;
  /** Sees each order status change once per instance, `seconds` after it was written (read by the log reader). */
  readonly onEventArrival?: (seconds: number) => void;
  /** Sees each read of the order log: what triggered it, and the rows it returned. */
  readonly onOrderLogRead?: (trigger: 'ring' | 'timer' | 'retry', rows: number) => void;
  readonly signInThrottleFor?: (scope: RequestScope) => AttemptThrottle | undefined;
  readonly crashPoints?: CrashPoints;
  /** Committed changes between the instances: catalog, customers and payments publish theirs, the order log reader tells its own (ADR 0015). */
  readonly changes?: ChangeFeed;
}

/**
 * The four modules, each built from the narrow APIs of those it uses, in the order their GraphQL
 * registers (orders last: its fields point at customers, products and payments). Another module's
 * API for the same operation is read from the scope, so it is the same (decorated) object the
 * GraphQL layer sees.
 */
export function createModules(config: Config, wiring: ModuleWiring) {
  const changes = wiring.changes ? { changes: wiring.changes } : {};
  const catalog = createCatalogModule({ currency: config.currency, ...changes });
  const customers = createCustomersModule({
    tokens: { ...config.auth, dataDir: config.dataDir, production: config.env === 'production' },
    signInThrottleFor: wiring.signInThrottleFor ?? (() => undefined),
    ...changes,
  });
  const payments = createPaymentsModule({
    provider: wiring.paymentProvider,
    callBudgetMs: config.payments.callBudgetMs,
    ...(wiring.crashPoints ? { crashPoints: wiring.crashPoints } : {}),
    ...changes,
  });
  const orders = createOrdersModule({
    catalog: { forScope: (scope) => (scope as AppScope).catalog, stockReservations: catalog.stockReservations },
    customers: (scope) => (scope as AppScope).customers,
    payments: { forScope: (scope) => (scope as AppScope).payments, statements: payments.paymentStatements },
    doorbell: wiring.doorbell,
    ...changes,
    ...(wiring.onEventArrival ? { onEventArrival: wiring.onEventArrival } : {}),
    ...(wiring.onOrderLogRead ? { onLogRead: wiring.onOrderLogRead } : {}),
    currency: config.currency,
    paymentCallBudgetMs: config.payments.callBudgetMs,
    orderLog: config.orderLog,
    reconciler: config.reconciler,
    logger: wiring.logger,
    ...(wiring.crashPoints ? { crashPoints: wiring.crashPoints } : {}),
  });
  return { catalog, customers, payments, orders, all: [customers, catalog, payments, orders] as const };
}

/** The modules of a running application. */
export type AppModules = ReturnType<typeof createModules>;

/** One operation's scope with every module's API (the GraphQL context). */
export type AppScope = ScopeWith<AppModules['all']>;

/**
 * The schema the application serves, for tooling and tests (the schema printer, document checks):
 * the modules built with inert wiring, which building the schema never touches.
 */
export function createSchema(options: { readonly currency: string }): GraphQLSchema {
  const config = loadConfig({ NODE_ENV: 'test', STORE_CURRENCY: options.currency });
  const logger = createLogger('silent');
  const modules = createModules(config, {
    logger,
    paymentProvider: createPaymentProvider(config.payments, config.currency, logger),
    doorbell: eventTargetDoorbell(new EventTarget(), 'in-process'),
  });
  return buildSchema(modules.all);
}
