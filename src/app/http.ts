import { once } from 'node:events';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.ts';
import { releaseSubscriptionContext, type GraphQLContext } from '../graphql/context.ts';
import { useRequestDeadline } from '../graphql/security/request-deadline.ts';
import type { Security } from '../graphql/security/index.ts';
import { createGraphQLServer, requestIdOf, requestIdOfNode, type ContextFactory } from '../graphql/server.ts';
import { withCacheFront } from '../graphql/response-cache-front.ts';
import type { ResponseCache } from '../graphql/response-cache.ts';
import { paymentWebhookPlugin } from '../http/payment-webhooks.ts';
import type { Logger } from '../platform/logger.ts';
import { systemContext } from '../platform/op-context.ts';
import type { Health } from '../platform/observability/health.ts';
import { createHttpDrain } from '../platform/observability/http-drain.ts';
import type { LogContext } from '../platform/observability/log-context.ts';
import type { Metrics } from '../platform/observability/metrics.ts';
import { useSubscriptionLifecycle } from '../platform/observability/subscriptions.ts';
import type { Authentication } from '../modules/customers/module.ts';
import { useOperationSpans } from '../platform/telemetry/tracing.ts';

/** What serving needs from the rest of the application. */
export interface ServeDeps {
  readonly schema: GraphQLSchema;
  readonly createContext: ContextFactory;
  readonly authenticate: (token: string) => Promise<Authentication | undefined>;
  readonly security: Security;
  readonly logger: Logger;
  readonly logContext: LogContext;
  readonly health: Health;
  readonly metrics: Metrics;
  readonly cleanups: (() => Promise<void>)[];
  /** The response cache (docs/adr/0015): its plugin and its hit path in front of yoga; absent when RESPONSE_CACHE=false. */
  readonly responseCache?: ResponseCache | undefined;
}

/**
 * The response cache's hit path in front of yoga (src/graphql/response-cache-front.ts): hits of plain
 * JSON queries answered before yoga's pipeline, charged like any operation. None without a cache,
 * nor with trusted documents: yoga then runs only documents by id, and a hit answered before it
 * would take a query text yoga refuses (the key holds the text the id stands for).
 */
function cacheFront(config: Config, deps: ServeDeps): { front?: (next: RequestListener) => RequestListener } {
  const cache = deps.responseCache;
  const { security, metrics, logger } = deps;
  if (!cache || security.transport.trustedDocuments) return {};
  return {
    front: (next) =>
      withCacheFront(next, {
        path: '/graphql',
        maxBodyBytes: config.security.maxBodyBytes,
        verifyToken: deps.authenticate,
        lookup: (params, viewer) => cache.lookup(params, viewer),
        charge: security.chargeCost,
        clientAddress: security.transport.clientAddressOfUpgrade,
        requestId: requestIdOfNode,
        logger,
        onHit: metrics.responseCacheFrontHit,
      }),
  };
}

/**
 * Serves GraphQL over HTTP, SSE and WebSockets with the cross-cutting plugins in the order they
 * apply, and registers the drain that runs first on stop: readiness false at once, WebSockets
 * handed off (1012, spread reconnects, resume cursors), open subscriptions ended, in-flight
 * requests finished within SHUTDOWN_GRACE_MS.
 * @returns the server and its GraphQL URL (`http://127.0.0.1:4000/graphql`).
 */
export async function serve(config: Config, deps: ServeDeps) {
  const { logger, security, metrics } = deps;
  if (config.diagnostics.disabled.size > 0) {
    logger.warn({ disabled: [...config.diagnostics.disabled] }, 'DIAGNOSTIC_DISABLE: security controls are off for a benchmark diagnostic; never run like this in production');
  }
  // Aborted when shutdown begins: ends open subscription streams (SSE responses can then finish).
  const shuttingDown = new AbortController();
  const plugins: Plugin<Record<string, unknown>>[] = [
    // Client errors get their codes before logs, metrics and traces read a result (issue 10).
    security.clientErrors,
    // Queries and mutations stop at REQUEST_TIMEOUT_MS or when their client leaves, SQL included.
    useRequestDeadline({ timeoutMs: config.requestTimeoutMs, logger }),
    // Log correlation wraps everything; probes and scrapes are answered before limits and CSRF.
    deps.logContext.plugin({ logger, requestIdOf }),
    deps.health.plugin,
    ...metrics.plugins,
    useOperationSpans(),
    useSubscriptionLifecycle({ shutdown: shuttingDown.signal, onDelta: metrics.subscriptionDelta, onErrors: metrics.subscriptionErrors, release: releaseSubscriptionContext }),
    paymentWebhookPlugin({
      secret: config.payments.webhook.secret,
      toleranceMs: config.payments.webhook.toleranceMs,
      handle: (event) => {
        const op = systemContext('payment-webhook');
        return deps.createContext(op).orders.handleProviderEvent(op, event);
      },
      logger,
    }),
    // CSRF, trusted documents, document limits, suggestions, introspection, cost and rate limits.
    ...security.plugins,
    // After the cost limits, whose execute hook runs first: a hit is charged like any query. It
    // wraps the execute function graphql-jit set (yoga's plugins come before these), so a miss runs jit.
    ...(deps.responseCache ? [deps.responseCache.plugin] : []),
  ];
  const { yoga, server, wss, handOff } = createGraphQLServer({
    plugins,
    schema: deps.schema,
    createContext: deps.createContext,
    verifyToken: deps.authenticate,
    transport: security.transport,
    graphiql: config.http.graphiql,
    jit: config.http.jit,
    maskErrors: !config.diagnostics.disabled.has('masking'),
    onSlowConsumerClose: metrics.webSocketSlowConsumerClosed,
    sseShutdown: { signal: shuttingDown.signal, reconnectSpreadMs: config.shutdownReconnectSpreadMs },
    logger,
    ...cacheFront(config, deps),
  });
  const drain = createHttpDrain(server, wss, logger, handOff);
  metrics.sources.openWebSockets = () => wss.clients.size;
  server.listen(config.http.port, config.http.host);
  await once(server, 'listening');
  deps.cleanups.unshift(async () => {
    deps.health.markShuttingDown();
    // The streams end once the WebSockets are handed off (1012), which their clients resubscribe after.
    const report = await drain.drain({ graceMs: config.shutdownGraceMs, reconnectSpreadMs: config.shutdownReconnectSpreadMs, endStreams: () => shuttingDown.abort() });
    logger.info(report, report.clean ? 'HTTP drained' : 'HTTP drain cut short by the grace period');
  });
  const { port } = server.address() as AddressInfo;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}${yoga.graphqlEndpoint}`;
  logger.info({ url, graphiql: config.http.graphiql }, 'Ordergraph is serving');
  return { yoga, url, port };
}
