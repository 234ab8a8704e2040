import { createCounter, createHistogram, usePrometheus, type FillLabelsFnParams } from '@graphql-yoga/plugin-prometheus';
import { getOperationAST, type DocumentNode, type GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { tracePipelineCounts } from '../telemetry/pipeline-counts.ts';
import { errorCodeOf, resultErrors } from './error-codes.ts';
import type { DependencySnapshot } from './health.ts';

/** Live values the metrics read at scrape time; app.ts fills them in as the parts come up. */
export interface MetricSources {
  /** Open graphql-ws sockets. */
  openWebSockets?: () => number;
  /** The `pg` pool under MikroORM: connections, idle ones, callers waiting, and the configured maximum. */
  dbPool?: () => { readonly total: number; readonly idle: number; readonly waiting: number; readonly max: number };
  /** The payment provider's circuit breaker ('closed', 'open', 'half-open', 'isolated'); absent for providers without one. */
  paymentCircuitBreaker?: () => string | undefined;
  /** Readiness's last known dependency states (health.ts `snapshot`): from its checks and connection events. */
  dependencies?: () => DependencySnapshot;
  /** Seconds the order log reader has been waiting for the oldest change held back by an open transaction (0: none; ADR 0012). */
  orderLogHorizonLag?: () => number;
}

/** Prometheus metrics of one application instance, served on GET /metrics. */
export interface Metrics {
  readonly registry: Registry;
  /** Yoga plugins: the GraphQL operation metrics and the /metrics endpoint. Put them early in the list. */
  readonly plugins: readonly Plugin<Record<string, unknown>>[];
  readonly sources: MetricSources;
  /** Counts a subscription stream that started (+1) or ended (−1), over SSE or graphql-ws. */
  subscriptionDelta(delta: 1 | -1): void;
  /** A use case returned an expected failure (errors as data), e.g. PAYMENT_DECLINED. */
  useCaseFailed(useCase: string, code: string): void;
  /**
   * Errors a subscriber got (the subscription refused, or errors in one of its events), counted in
   * `graphql_envelop_error_result` with phase `subscribe`: the Prometheus plugin counts queries
   * and mutations only (see useSubscriptionLifecycle's `onErrors`).
   */
  subscriptionErrors(operation: { readonly document: DocumentNode; readonly operationName?: string | null | undefined }, errors: readonly GraphQLError[]): void;
  /** An order status change reached this instance (its log reader read it), `seconds` after its `at` (set when it was written). */
  eventArrived(seconds: number): void;
  /** The order log reader read `rows` rows, woken by its doorbell, its timer, or to read again (rows held back by an open transaction). */
  orderLogRead(trigger: 'ring' | 'timer' | 'retry', rows: number): void;
  /** A graphql-ws socket was closed with 4008: its client read too slowly (WS_SEND_BUFFER_BYTES). */
  webSocketSlowConsumerClosed(): void;
  /** A query was answered by the response cache's hit path in front of yoga (src/graphql/response-cache-front.ts). */
  responseCacheFrontHit(): void;
}

const CIRCUIT_STATES = ['closed', 'open', 'half-open', 'isolated'] as const;

/**
 * The `code` label of a GraphQL error: its `extensions.code`; for a parse or validation error
 * (which get theirs after the Prometheus plugin has seen them) what the phase implies; else
 * {@link errorCodeOf}.
 */
function errorCode(error: unknown, phase: string | undefined): string {
  const code = (error as GraphQLError | undefined)?.extensions?.code;
  if (typeof code === 'string') return code;
  if (phase === 'parse') return 'GRAPHQL_PARSE_FAILED';
  if (phase === 'validate') return 'GRAPHQL_VALIDATION_FAILED';
  return errorCodeOf(error as GraphQLError | undefined);
}

/** How far an HTTP request got through envelop, and whether the Prometheus plugin counted its errors there. */
interface Reached {
  readonly phase: 'parse' | 'validate' | 'context' | 'execute' | 'subscribe';
  readonly counted: boolean;
  readonly operationName?: string | undefined;
  readonly operationType?: string | undefined;
}

/**
 * Creates the registry and the metrics the issue asks for, on prom-client and
 * `@graphql-yoga/plugin-prometheus`: operation duration by operation name and outcome, errors by
 * code, open WebSockets, active subscriptions, DB pool usage, order-event publish lag, the payment
 * circuit breaker, readiness per dependency, plus Node's default process metrics. A fresh registry per app (no global state),
 * so tests can run several apps in one process.
 */
export function createMetrics(options: { readonly enabled: boolean }): Metrics {
  const registry = new Registry();
  const sources: MetricSources = {};
  // Outcome of each execution, written by our plugin's onExecuteDone, which runs before the
  // Prometheus plugin's (plugins run in list order), and read when the duration is observed.
  const outcomes = new WeakMap<object, 'success' | 'error'>();

  collectDefaultMetrics({ register: registry });
  const activeSubscriptions = new Gauge({
    name: 'ordergraph_graphql_active_subscriptions',
    help: 'GraphQL subscription streams currently open (SSE and graphql-ws)',
    registers: [registry],
  });
  registerSourceGauges(registry, sources);
  const publishLag = new Histogram({
    name: 'ordergraph_order_event_publish_lag_seconds',
    help: 'Time from an order status change being written (its `at`, in the transaction that committed it) to this instance\'s order log reader reading it (ADR 0012)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const useCaseFailures = new Counter({
    name: 'ordergraph_use_case_failures_total',
    help: 'Expected failures returned by use cases (errors as data), by use case and error code',
    labelNames: ['use_case', 'code'],
    registers: [registry],
  });
  registerTracePipelineCounters(registry);
  const logReads = new Counter({
    name: 'ordergraph_order_log_reads_total',
    help: 'Reads of the order log by this instance\'s reader, by trigger: ring (its doorbell), timer (ORDER_LOG_POLL_MS), retry (rows were held back by an open transaction; the reads that follow a full batch count under its trigger)',
    labelNames: ['trigger'],
    registers: [registry],
  });
  const logRows = new Counter({
    name: 'ordergraph_order_log_rows_read_total',
    help: 'Order status changes read from the order log by this instance\'s reader, by the trigger of the read',
    labelNames: ['trigger'],
    registers: [registry],
  });
  const slowConsumerCloses = new Counter({
    name: 'ordergraph_websocket_slow_consumer_closes_total',
    help: 'graphql-ws sockets closed with 4008 because their unsent bytes passed WS_SEND_BUFFER_BYTES (the client reads slower than its events arrive); the close reason carries its resume cursor',
    registers: [registry],
  });

  const frontHits = new Counter({
    name: 'ordergraph_response_cache_front_hits_total',
    help: "Queries answered from the response cache before yoga's pipeline (docs/adr/0015); those hits get no operation span and are not in graphql_envelop_* metrics",
    registers: [registry],
  });

  const errorResult = createErrorResultCounter(registry);
  const prometheus = createPrometheusPlugin(registry, options.enabled, outcomes, errorResult);
  return {
    registry,
    // uncountedErrors after prometheus: its after-hooks then see what the Prometheus plugin's saw.
    plugins: options.enabled ? [recordOutcomes(outcomes), prometheus, countUncountedErrors(errorResult)] : [],
    sources,
    subscriptionDelta: (delta) => activeSubscriptions.inc(delta),
    useCaseFailed: (useCase, code) => useCaseFailures.inc({ use_case: useCase, code }),
    subscriptionErrors: (operation, errors) => {
      const name = getOperationAST(operation.document, operation.operationName ?? undefined)?.name?.value ?? operation.operationName ?? 'Anonymous';
      for (const error of errors) errorResult.counter.inc({ operationName: name, operationType: 'subscription', phase: 'subscribe', code: errorCode(error, 'subscribe') });
    },
    eventArrived: (seconds) => publishLag.observe(Math.max(0, seconds)),
    orderLogRead: (trigger, rows) => {
      logReads.inc({ trigger });
      if (rows > 0) logRows.inc({ trigger }, rows);
    },
    webSocketSlowConsumerClosed: () => slowConsumerCloses.inc(),
    responseCacheFrontHit: () => frontHits.inc(),
  };
}

/** Gauges read at scrape time from what app.ts puts in `sources` (0 or absent until it does). */
function registerSourceGauges(registry: Registry, sources: MetricSources): void {
  new Gauge({
    name: 'ordergraph_websocket_connections',
    help: 'Open graphql-ws WebSocket connections',
    registers: [registry],
    collect() {
      this.set(sources.openWebSockets?.() ?? 0);
    },
  });
  new Gauge({
    name: 'ordergraph_db_pool_connections',
    help: 'Database pool connections by state (in_use, idle), and callers waiting for one (waiting)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const pool = sources.dbPool?.();
      if (!pool) return;
      this.set({ state: 'in_use' }, pool.total - pool.idle);
      this.set({ state: 'idle' }, pool.idle);
      this.set({ state: 'waiting' }, pool.waiting);
    },
  });
  new Gauge({
    name: 'ordergraph_db_pool_max_connections',
    help: 'Configured size of the database pool (DB_POOL_MAX; 1 on the embedded PGlite)',
    registers: [registry],
    collect() {
      const pool = sources.dbPool?.();
      if (pool) this.set(pool.max);
    },
  });
  new Gauge({
    name: 'ordergraph_payment_circuit_breaker_state',
    help: 'Circuit breaker of the payment provider: 1 for its current state, 0 for the others (absent for providers without one)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const current = sources.paymentCircuitBreaker?.();
      if (current === undefined) return;
      for (const state of CIRCUIT_STATES) this.set({ state }, state === current ? 1 : 0);
    },
  });
  registerDependencyGauges(registry, sources);
  new Gauge({
    name: 'ordergraph_order_log_horizon_lag_seconds',
    help: 'Age of the oldest order status change committed but not readable yet, held back by an older open transaction anywhere in the cluster (0: none); delivery waits for it (ADR 0012)',
    registers: [registry],
    collect() {
      this.set(sources.orderLogHorizonLag?.() ?? 0);
    },
  });
}

/**
 * Readiness per dependency, as last known (set when `/ready` runs its checks and, for Redis, on
 * its connections' events), so a scrape never probes a dependency itself.
 */
function registerDependencyGauges(registry: Registry, sources: MetricSources): void {
  new Gauge({
    name: 'ordergraph_dependency_up',
    help: 'Whether a dependency answered its last readiness check or connection event: 1 up, 0 down (absent until first known)',
    labelNames: ['dependency'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [dependency, state] of Object.entries(sources.dependencies?.().dependencies ?? {})) this.set({ dependency }, state === 'up' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'ordergraph_degraded',
    help: 'Whether the instance serves degraded (1): every critical dependency up, a non-critical one (Redis) down; /ready then answers 200 "degraded"',
    registers: [registry],
    collect() {
      this.set(sources.dependencies?.().degraded ? 1 : 0);
    },
  });
}

/** The span pipeline's counts are the process's (one OpenTelemetry SDK per process), read at scrape time. */
function registerTracePipelineCounters(registry: Registry): void {
  new Counter({
    name: 'ordergraph_traces_kept_total',
    help: 'Traces not head-sampled but exported whole by a tail rule (TRACE_SAMPLE_RATIO, TRACE_SLOW_MS): a span failed (error) or the trace was slow (slow)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, count] of Object.entries(tracePipelineCounts.kept)) this.inc({ reason }, count);
    },
  });
  new Counter({
    name: 'ordergraph_trace_spans_dropped_total',
    help: 'Spans lost on their way to the OTLP exporter: export_queue_full (batch processor queue, OTEL_BSP_MAX_QUEUE_SIZE), trace_buffer_full (undecided traces past the tail rules\' memory bounds)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ reason: 'export_queue_full' }, tracePipelineCounts.spansDropped.exportQueueFull);
      this.inc({ reason: 'trace_buffer_full' }, tracePipelineCounts.spansDropped.traceBufferFull);
    },
  });
}

/** Records whether each execution's result had GraphQL errors, for the duration's `outcome` label. */
function recordOutcomes(outcomes: WeakMap<object, 'success' | 'error'>): Plugin<Record<string, unknown>> {
  return {
    onExecute: ({ args }) => ({
      onExecuteDone: ({ result }) => {
        if (isAsyncIterable(result)) return;
        outcomes.set(args.contextValue as object, result.errors?.length ? 'error' : 'success');
      },
    }),
  };
}

type ErrorPhase = 'parse' | 'validate' | 'context' | 'execute' | 'subscribe';

/** `graphql_envelop_error_result`, the Prometheus plugin's error counter with our `code` label. */
function createErrorResultCounter(registry: Registry) {
  return createCounter<ErrorPhase, 'operationName' | 'operationType' | 'phase' | 'code', FillLabelsFnParams & { error: unknown; errorPhase: ErrorPhase }>({
    registry,
    counter: {
      name: 'graphql_envelop_error_result',
      help: 'GraphQL errors in responses, by operation, phase and error code (extensions.code)',
      labelNames: ['operationName', 'operationType', 'phase', 'code'] as const,
    },
    // Not 'subscribe': the plugin would wrap every subscription's stream in two more iterators
    // to see its events (~1 KB heap per idle subscribed socket and two promise hops per event
    // and subscriber, issue 14); useSubscriptionLifecycle reports them (subscriptionErrors).
    phases: ['parse', 'validate', 'context', 'execute'],
    fillLabelsFn: (params) => ({
      operationName: params.operationName ?? 'Anonymous',
      operationType: params.operationType ?? 'unknown',
      phase: params.errorPhase ?? 'unknown',
      code: errorCode(params.error, params.errorPhase),
    }),
  });
}

type ErrorResultCounter = ReturnType<typeof createErrorResultCounter>;

/**
 * The Prometheus plugin counts an error where envelop shows it one: a parse or validation
 * that returns errors, a context that throws, an execution result. Errors answered before a
 * request reaches parse (method, body, CSRF, media type, parameters), or thrown where no
 * after-hook runs (the parse cache's repeated error, armor's limits out of validation, yoga's
 * mutation-over-GET check after parse), it never sees: this plugin counts those, from the
 * response's errors, with the phase the request had reached ('request' before parse).
 */
function countUncountedErrors(errorResult: ErrorResultCounter): Plugin<Record<string, unknown>> {
  const reached = new WeakMap<Request, Reached>();
  const track = (context: unknown, next: Omit<Reached, 'operationName' | 'operationType'>, document?: DocumentNode) => {
    const { request, params } = (context ?? {}) as { request?: Request; params?: { operationName?: string | null } };
    if (!request) return;
    const previous = reached.get(request);
    const operation = document ? getOperationAST(document, params?.operationName ?? undefined) : undefined;
    reached.set(request, {
      ...next,
      operationName: operation ? operation.name?.value : previous?.operationName,
      operationType: operation ? operation.operation : previous?.operationType,
    });
  };
  return {
    onParse: ({ context }) => {
      track(context, { phase: 'parse', counted: false });
      return ({ result }) => {
        if (result instanceof Error) track(context, { phase: 'parse', counted: true });
        else if (result) track(context, { phase: 'parse', counted: false }, result as DocumentNode);
      };
    },
    onValidate: ({ context }) => {
      track(context, { phase: 'validate', counted: false });
      // A valid document goes on to the context factory, whose errors the Prometheus plugin counts
      // (yoga's factory runs in a hook before ours, so the phase is set here).
      return ({ valid }) => track(context, valid ? { phase: 'context', counted: true } : { phase: 'validate', counted: true });
    },
    onExecute: ({ args }) => track(args.contextValue, { phase: 'execute', counted: true }),
    onSubscribe: ({ args }) => track(args.contextValue, { phase: 'subscribe', counted: true }),
    onResultProcess: ({ request, result }) => {
      const state = reached.get(request);
      if (state?.counted) return;
      for (const error of resultErrors(result)) {
        errorResult.counter.inc({
          operationName: state?.operationName ?? 'Anonymous',
          operationType: state?.operationType ?? 'unknown',
          phase: state?.phase ?? 'request',
          code: errorCodeOf(error),
        });
      }
    },
  };
}

/** yoga's Prometheus plugin with the series we keep (and GET /metrics when `enabled`). */
function createPrometheusPlugin(
  registry: Registry,
  enabled: boolean,
  outcomes: WeakMap<object, 'success' | 'error'>,
  errorResult: ErrorResultCounter,
): Plugin<Record<string, unknown>> {
  return usePrometheus({
    registry,
    endpoint: enabled ? '/metrics' : false,
    metrics: {
      graphql_envelop_request_duration: createHistogram({
        registry,
        histogram: {
          name: 'graphql_envelop_request_duration',
          help: 'Time to execute a GraphQL query or mutation (s), by operation name, type and outcome (success: no GraphQL errors)',
          labelNames: ['operationName', 'operationType', 'outcome'] as const,
        },
        phases: ['execute'],
        fillLabelsFn: (params, context) => ({
          operationName: params.operationName ?? 'Anonymous',
          operationType: params.operationType ?? 'unknown',
          outcome: outcomes.get(context as object) ?? 'success',
        }),
      }),
      graphql_envelop_error_result: errorResult,
      // The schema deprecates nothing, and this counter walks every parsed document with a
      // TypeInfo on every request (yoga's plugin turns it on by default): measurable per request
      // for no series (issue #6).
      graphql_envelop_deprecated_field: false,
      // Off for the same reason: parse and validation are answered from yoga's caches and the
      // context is built lazily (their histograms would read ~0), the request counter repeats
      // the duration's _count, and the summary repeats the duration histogram at the price of a
      // quantile sketch update per request (a sixth of the metrics' cost, issue 6 profile).
      graphql_envelop_request: false,
      graphql_envelop_request_time_summary: false,
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_phase_execute: true,
      // On by default: a histogram of each subscription's lifetime, observed at its end, for which
      // the plugin wraps every stream in one more iterator (issue 14).
      graphql_envelop_phase_subscribe: false,
      graphql_yoga_http_duration: true,
    },
    // Every distinct URL (query strings included) would be a new series.
    labels: { url: false },
  }) as unknown as Plugin<Record<string, unknown>>;
}
