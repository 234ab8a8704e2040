import { openDatabase } from './app/database.ts';
import { createEventTransport } from './app/event-transport.ts';
import { serve } from './app/http.ts';
import type { Config } from './config.ts';
import { seedDemoData } from './demo/seed.ts';
import { createResponseCache } from './graphql/response-cache.ts';
import { chargedPointsOf } from './graphql/security/operation-limits.ts';
import { buildSchema } from './graphql/schema.ts';
import { createSecurity } from './graphql/security/index.ts';
import { createModules } from './modules.ts';
import { createPaymentProvider } from './modules/payments/module.ts';
import { createCrashPoints } from './platform/crash-points.ts';
import { createLogger } from './platform/logger.ts';
import { createHealth } from './platform/observability/health.ts';
import { createLogContext } from './platform/observability/log-context.ts';
import { createMetrics } from './platform/observability/metrics.ts';
import { systemContext, type OpContext } from './platform/op-context.ts';
import type { CustomersApi } from './modules/customers/public.ts';
import { createScopeFactory } from './platform/request-scope.ts';
import { traceUseCases } from './platform/telemetry/tracing.ts';

import type { AppOptions, RunningApp } from './app/options.ts';

export type { AppOptions, RunningApp };

/**
 * The composition root: config in, `{ start, stop }` out. `start` builds the modules, opens the
 * database with their entities and migrations (the embedded PGlite unless DATABASE_URL is set),
 * starts them, seeds demo data outside production, starts their workers and serves GraphQL over
 * HTTP, SSE and WebSockets; `stop` undoes it in reverse order (ADR 0001, ADR 0010).
 */
export function createApp(config: Config, options: AppOptions = {}) {
  let running: (RunningApp & { close: () => Promise<void> }) | undefined;

  async function start(): Promise<RunningApp> {
    if (running) return running;
    const logContext = createLogContext();
    const logger = options.logger ?? createLogger(config.logLevel, options.logDestination, { mixin: logContext.mixin });
    const metrics = createMetrics({ enabled: config.metrics.enabled });
    const health = createHealth({ timeoutMs: config.readinessTimeoutMs });
    metrics.sources.dependencies = health.snapshot;
    const cleanups: (() => Promise<void>)[] = [];
    const close = async () => {
      for (const cleanup of cleanups) await cleanup();
    };
    try {
      const transport = createEventTransport(config, { override: options.eventTarget, logger, health, cleanups });
      if (config.env === 'production' && config.payments.provider === 'simulated') logger.warn('PAYMENT_PROVIDER=simulated in production: no money is taken');
      const modules = createModules(config, {
        logger,
        paymentProvider: options.paymentProvider ?? createPaymentProvider(config.payments, config.currency, logger),
        doorbell: transport.doorbell,
        onEventArrival: metrics.eventArrived,
        onOrderLogRead: metrics.orderLogRead,
        signInThrottleFor: (scope) => security.signInThrottleFor(scope.op, scope.client),
        crashPoints: createCrashPoints(config.crash.point, config.crash.skip),
        changes: transport.changes,
      });
      const orm = await openDatabase(config, modules.all, { logger, health, metrics, onQuery: options.onQuery, cleanups });
      // Each module API is decorated once per scope: a span per use case call, failures counted by code.
      const createContext = createScopeFactory(() => orm.em.fork(), modules.all, (name, api) => traceUseCases(name, api, metrics.useCaseFailed));
      const runtime = { fork: () => orm.em.fork(), scopeFor: createContext, logger, apiFor: <Api,>(name: string, op: OpContext) => (createContext(op) as unknown as Record<string, Api>)[name]! };
      // After the modules and the database: cost budgets read customers' tiers (once per window per
      // identity and instance). The modules use security only lazily (signInThrottleFor above).
      const security = await createSecurity(config, {
        redis: transport.redis,
        tierOf: (customerId) => {
          const op = systemContext('cost-budgets');
          return runtime.apiFor<CustomersApi>('customers', op).getPricingTier(op, customerId);
        },
      });
      for (const module of modules.all) {
        await module.start?.(runtime);
        Object.assign(metrics.sources, module.gauges);
      }
      if (config.seedDemoData) await seedDemoData(createContext, config.currency, logger);
      // Workers stop before the database closes (cleanups run in reverse order of registration).
      const workers = modules.all.flatMap((module) => module.workers?.(runtime) ?? []);
      cleanups.unshift(async () => void (await Promise.all(workers.map((worker) => worker.stop()))));
      const schema = buildSchema(modules.all);
      // Invalidated by committed changes of every instance (docs/adr/0015).
      const responseCache = config.responseCache
        ? createResponseCache({ schema, ...config.responseCache, verifyToken: modules.customers.authenticate, changes: transport.changes, pointsOf: chargedPointsOf })
        : undefined;
      if (responseCache) cleanups.unshift(async () => responseCache.close());
      const served = await serve(config, { schema, createContext, authenticate: modules.customers.authenticate, security, logger, logContext, health, metrics, cleanups, responseCache });
      running = { ...served, schema, orm, logger, createContext, close };
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
