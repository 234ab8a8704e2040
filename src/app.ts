import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { DestinationStream } from 'pino';
import type { Config } from './config.ts';
import { seedDemoData } from './demo/seed.ts';
import { allEntities } from './entities.ts';
import type { GraphQLContext } from './graphql/context.ts';
import { createSchema } from './graphql/schema.ts';
import { createGraphQLServer, requestIdOf } from './graphql/server.ts';
import { createSecurity, type ClientInfo } from './graphql/security/index.ts';
import { useRequestDeadline } from './graphql/security/request-deadline.ts';
import { migrations } from './migrations/index.ts';
import { createCatalogUseCases } from './modules/catalog/public.ts';
import { createPasswordHasher, createTokenService, createCustomersUseCases } from './modules/customers/public.ts';
import { createOrdersUseCases, EventTargetOrderEvents, startOutboxRelay, toWireChange, type WireChange } from './modules/orders/public.ts';
import { createPaymentProvider, createPaymentsUseCases, type PaymentProvider } from './modules/payments/public.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './platform/db/embedded-postgres.ts';
import { createOrm, migrate } from './platform/db/orm.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import { systemContext, type OpContext } from './platform/op-context.ts';
import { createCrashPoints } from './platform/crash-points.ts';
import { lazyObject } from './platform/lazy.ts';
import { startLoop, type BackgroundWorker } from './platform/worker-pool.ts';
import { paymentWebhookPlugin } from './http/payment-webhooks.ts';
import { createHealth } from './platform/observability/health.ts';
import { createHttpDrain } from './platform/observability/http-drain.ts';
import { createLogContext } from './platform/observability/log-context.ts';
import { createMetrics } from './platform/observability/metrics.ts';
import { createRedisPubSub, type RedisPubSub } from './platform/observability/redis-pubsub.ts';
import { useSubscriptionLifecycle } from './platform/observability/subscriptions.ts';
import { activeTraceparent, traceDeliveries, traceUseCases, useOperationSpans } from './platform/telemetry/tracing.ts';

/** Replaceable parts, for tests and benchmarks; production uses the defaults. */
export interface AppOptions {
  readonly logger?: Logger;
  readonly paymentProvider?: PaymentProvider;
  /** The pub/sub transport of order events (default: in-process). */
  readonly eventTarget?: EventTarget;
  /** Sees every SQL statement (tests count them). */
  readonly onQuery?: (sql: string) => void;
  /** Where the app's own logger writes its JSON lines, with the request correlation fields (default stdout; tests read them). */
  readonly logDestination?: DestinationStream;
}

/** A started application. */
export interface RunningApp {
  /** e.g. `http://127.0.0.1:4000/graphql` */
  readonly url: string;
  readonly port: number;
  readonly yoga: ReturnType<typeof createGraphQLServer>['yoga'];
  readonly schema: GraphQLSchema;
  readonly orm: MikroORM;
  readonly logger: Logger;
  /** Builds the same per-operation context a request gets (for scripts and tests). */
  readonly createContext: (op: OpContext) => GraphQLContext;
}

/**
 * The composition root, by hand: config in, `{ start, stop }` out. `start` opens the database
 * (the embedded PGlite unless DATABASE_URL is set), migrates, seeds demo data outside production,
 * and serves GraphQL over HTTP, SSE and WebSockets; `stop` undoes it in reverse order.
 */
export function createApp(config: Config, options: AppOptions = {}) {
  let running: (RunningApp & { close: () => Promise<void> }) | undefined;

  async function start(): Promise<RunningApp> {
    if (running) return running;
    const logContext = createLogContext();
    const logger = options.logger ?? createLogger(config.logLevel, options.logDestination, { mixin: logContext.mixin });
    const metrics = createMetrics({ enabled: config.metrics.enabled });
    const health = createHealth({ timeoutMs: config.readinessTimeoutMs });
    // Aborted when shutdown begins: ends open subscription streams (SSE responses can then finish).
    const shuttingDown = new AbortController();
    const cleanups: (() => Promise<void>)[] = [];
    try {
      let url = config.database.url;
      let poolMax = config.database.poolMax;
      if (!url) {
        const embedded: EmbeddedPostgres = await startEmbeddedPostgres(join(config.dataDir, 'pglite'));
        cleanups.unshift(() => embedded.stop());
        url = embedded.url;
        poolMax = embedded.maxConnections;
        logger.info({ dataDir: config.dataDir }, 'embedded PostgreSQL (PGlite) started');
      }
      const orm = await createOrm({
        url,
        poolMax,
        debug: config.database.debug,
        entities: allEntities,
        migrations,
        logger,
        ...(options.onQuery ? { onQuery: options.onQuery } : {}),
        // The embedded PGlite ignores cancel requests (and runs one statement at a time anyway).
        cancelStatementsOnAbort: url === config.database.url,
      });
      cleanups.unshift(() => orm.close());
      health.addCheck({ name: 'database', check: async () => (await orm.checkConnection()).ok });
      const pool = await orm.em.getConnection().getNativeClient();
      metrics.sources.dbPool = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: poolMax });
      if (config.database.migrateOnStart) {
        const applied = await migrate(orm);
        if (applied.length > 0) logger.info({ applied }, 'migrations applied');
      }

      const tokens = await createTokenService({
        privateKeyPem: config.auth.privateKeyPem,
        dataDir: config.dataDir,
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        ttlSeconds: config.auth.ttlSeconds,
        production: config.env === 'production',
        previousPublicKeysPem: config.auth.previousPublicKeysPem,
        external: config.auth.external,
      });
      const passwords = createPasswordHasher();
      const provider = options.paymentProvider ?? createPaymentProvider(config.payments, config.currency, logger);
      if (config.env === 'production' && config.payments.provider === 'simulated') {
        logger.warn('PAYMENT_PROVIDER=simulated in production: no money is taken');
      }
      // Order events: in-process, or Redis between instances (REDIS_URL); each event's arrival here
      // is a span linked to the mutation's (the traceparent travels in the outbox row).
      let transport = options.eventTarget ?? new EventTarget();
      let commandRedis: RedisPubSub['client'] | undefined;
      if (!options.eventTarget && config.redisUrl) {
        const redis = createRedisPubSub(config.redisUrl, logger);
        commandRedis = redis.client;
        // Registered before the workers' cleanup, so it runs after they stopped (the relay publishes).
        cleanups.unshift(() => redis.close());
        health.addCheck({ name: 'redis', check: (signal) => redis.check(signal) });
        transport = redis.eventTarget;
      }
      const events = new EventTargetOrderEvents(
        traceDeliveries(transport, {
          system: config.redisUrl && !options.eventTarget ? 'redis' : 'in-process',
          attributes: (detail) => ({ 'ordergraph.order.id': (detail as WireChange).orderId, 'ordergraph.order.version': (detail as WireChange).version }),
          onArrival: (detail) => metrics.eventArrived((Date.now() - Date.parse((detail as WireChange).at)) / 1_000),
        }),
      );
      const toWire = (change: Parameters<typeof toWireChange>[0]): WireChange => ({ ...toWireChange(change), ...activeTraceparent() });
      if ('breakerState' in provider && typeof provider.breakerState === 'function') {
        const breaker = provider as { breakerState(): string };
        metrics.sources.paymentCircuitBreaker = () => breaker.breakerState();
      }
      const crashPoints = createCrashPoints(config.crash.point, config.crash.skip);
      // Background workers, stopped before the database closes (see `cleanups`).
      const workers: BackgroundWorker[] = [];
      cleanups.unshift(async () => {
        await Promise.all(workers.map((worker) => worker.stop()));
      });
      const relay = startOutboxRelay({
        em: () => orm.em.fork(),
        sink: events,
        logger: logger.child({ component: 'outbox-relay' }),
        concurrency: config.outbox.concurrency,
        batchSize: config.outbox.batch,
        pollIntervalMs: config.outbox.pollIntervalMs,
      });
      workers.push(relay);

      // Hostile-client controls (issue #4); rate-limit counters shared through Redis when configured.
      const security = await createSecurity(config, { redis: commandRedis });
      if (config.diagnostics.disabled.size > 0) {
        logger.warn({ disabled: [...config.diagnostics.disabled] }, 'DIAGNOSTIC_DISABLE: security controls are off for a benchmark diagnostic; never run like this in production');
      }

      const createContext = (op: OpContext, client?: ClientInfo): GraphQLContext => {
        // The fork and each module's use cases are built when first used: an operation touches
        // one or two modules, and a subscription holds its context for its whole life (issue 6).
        let forked: ReturnType<typeof orm.em.fork> | undefined;
        const em = () => (forked ??= orm.em.fork());
        // Each use case call is a span (`orders.placeOrder`); expected failures are counted by code.
        const catalog = lazyObject(() => traceUseCases('catalog', createCatalogUseCases(em()), metrics.useCaseFailed));
        const customers = lazyObject(() => traceUseCases('customers', createCustomersUseCases(em(), { passwords, tokens, signInThrottle: security.signInThrottleFor(op, client) }), metrics.useCaseFailed));
        const payments = lazyObject(() => traceUseCases('payments', createPaymentsUseCases(em(), { provider, timeoutMs: config.payments.callBudgetMs, crashPoints }), metrics.useCaseFailed));
        const orders = lazyObject(() => traceUseCases('orders', createOrdersUseCases(em(), {
          catalog,
          customers,
          payments,
          events,
          outbox: relay,
          crashPoints,
          currency: config.currency,
          settleWaitMs: config.payments.callBudgetMs + 1_000,
          logger,
          toWire,
        }), metrics.useCaseFailed));
        return { op, catalog, customers, payments, orders };
      };

      if (config.seedDemoData) await seedDemoData(createContext, config.currency, logger);

      // Settles payments whose outcome is unknown (crash, timeout): at start-up, then periodically.
      const reconcilerLogger = logger.child({ component: 'payment-reconciler' });
      workers.push(
        startLoop({
          intervalMs: config.reconciler.intervalMs,
          round: async (signal) => {
            const op = systemContext('reconciler', signal);
            const report = await createContext(op).orders.reconcileOrders(op, {
              olderThan: new Date(Date.now() - config.reconciler.graceMs),
              limit: config.reconciler.batch,
              concurrency: config.reconciler.concurrency,
            });
            if (report.examined > 0) reconcilerLogger.info(report, 'payments reconciled');
          },
          onError: (error) => reconcilerLogger.warn({ err: error }, 'reconciliation round failed'),
        }),
      );

      const schema = createSchema({ currency: config.currency });
      // Cross-cutting HTTP/GraphQL concerns, each from its own module, in the order they apply.
      const plugins: Plugin<Record<string, unknown>>[] = [
        // Client errors get their codes before logs, metrics and traces read a result (issue 10).
        security.clientErrors,
        // Queries and mutations stop at REQUEST_TIMEOUT_MS or when their client leaves, SQL included.
        useRequestDeadline({ timeoutMs: config.requestTimeoutMs, logger }),
        // Operations (issue #5) first: log correlation wraps everything; probes and scrapes are
        // answered before limits, CSRF and GraphQL handling.
        logContext.plugin({ logger, requestIdOf }),
        health.plugin,
        ...metrics.plugins,
        useOperationSpans(),
        useSubscriptionLifecycle({ shutdown: shuttingDown.signal, onDelta: metrics.subscriptionDelta }),
        paymentWebhookPlugin({ secret: config.payments.webhook.secret, toleranceMs: config.payments.webhook.toleranceMs, createContext, logger }),
        // Security (issue #4): CSRF, trusted documents, document limits, suggestions, introspection,
        // cost and rate limits, request ids on masked errors.
        ...security.plugins,
      ];
      const { yoga, server, wss } = createGraphQLServer({
        plugins,
        schema,
        createContext,
        verifyToken: (token) => tokens.authenticate(token),
        transport: security.transport,
        graphiql: config.http.graphiql,
        jit: config.http.jit,
        maskErrors: !config.diagnostics.disabled.has('masking'),
        logger,
      });
      const drain = createHttpDrain(server, wss, logger);
      metrics.sources.openWebSockets = () => wss.clients.size;
      server.listen(config.http.port, config.http.host);
      await once(server, 'listening');
      // Runs first on stop: readiness false at once, then HTTP drains within the grace; the
      // workers, Redis, the pool and the embedded database close after it (reverse order above).
      cleanups.unshift(async () => {
        health.markShuttingDown();
        shuttingDown.abort();
        const report = await drain.drain(config.shutdownGraceMs);
        logger.info(report, report.clean ? 'HTTP drained' : 'HTTP drain cut short by the grace period');
      });
      const { port } = server.address() as AddressInfo;
      const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
      const url_ = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}${yoga.graphqlEndpoint}`;
      logger.info({ url: url_, graphiql: config.http.graphiql }, 'Ordergraph is serving');
      running = {
        url: url_,
        port,
        yoga,
        schema,
        orm,
        logger,
        createContext,
        close: async () => {
          for (const cleanup of cleanups) await cleanup();
        },
      };
      return running;
    } catch (error) {
      for (const cleanup of cleanups) await cleanup().catch(() => undefined);
      throw error;
    }
  }

  async function stop(): Promise<void> {
    const current = running;
    running = undefined;
    await current?.close();
  }

  return { start, stop };
}
