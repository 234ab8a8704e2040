import { createRequire } from 'node:module';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { getNumberFromEnv } from '@opentelemetry/core';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { tracePipelineCounts } from './pipeline-counts.ts';
import { createTraceSampler, queueDropMeterProvider, TailSamplingSpanProcessor } from './sampling.ts';

/** What {@link startTelemetry} needs; `Config['telemetry']` has this shape. */
export interface TelemetryOptions {
  readonly enabled: boolean;
  readonly serviceName: string;
  /** OTLP/HTTP base URL (the exporter appends `/v1/traces`); undefined: spans are made but not exported. */
  readonly otlpEndpoint: string | undefined;
  /**
   * Our sampling policy (docs/adr/0009): head-sample new traces at `ratio`, record every span, and
   * export unsampled traces that failed or lasted at least `slowMs`. Undefined: the standard
   * OTEL_TRACES_SAMPLER variables decide, as the SDK implements them, and nothing else is kept.
   */
  readonly sampling: { readonly ratio: number; readonly slowMs: number } | undefined;
}

/** A non-negative number from a standard OTEL_BSP_* variable, undefined (the SDK's default) otherwise. */
function batchSetting(name: string): number | undefined {
  const value = getNumberFromEnv(name);
  return value !== undefined && value >= 0 ? value : undefined;
}

/**
 * The exporting processor: the SDK's batch processor over OTLP/HTTP with its defaults (2,048 spans
 * queued, 5 s delay, 512 per export) unless OTEL_BSP_* say otherwise (read as the SDK reads them),
 * counting the spans it refuses with a full queue. Behind the tail rules when our policy applies.
 */
function exportingProcessor(sampling: TelemetryOptions['sampling']): SpanProcessor {
  const batch = new BatchSpanProcessor({
    exporter: new OTLPTraceExporter(),
    selfObsMeterProvider: queueDropMeterProvider(tracePipelineCounts),
    maxQueueSize: batchSetting('OTEL_BSP_MAX_QUEUE_SIZE'),
    scheduledDelayMillis: batchSetting('OTEL_BSP_SCHEDULE_DELAY'),
    exportTimeoutMillis: batchSetting('OTEL_BSP_EXPORT_TIMEOUT'),
    maxExportBatchSize: batchSetting('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
  });
  return sampling ? new TailSamplingSpanProcessor(batch, sampling.slowMs, tracePipelineCounts) : batch;
}

/** Incoming requests that get no span: probes and scrapes would drown the traces they sit beside. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics']);

// The one module-level singleton the project allows (issue #5): the SDK must be registered before
// the application's modules load, so it cannot be created by createApp.
let sdk: NodeSDK | undefined;

/**
 * Starts the OpenTelemetry Node SDK: spans for incoming HTTP (instrumentation-http), SQL
 * (instrumentation-pg, only inside a traced operation) and outgoing fetch (instrumentation-undici),
 * W3C trace context, our sampling policy (docs/adr/0009) unless OTEL_TRACES_SAMPLER is set, and an
 * OTLP/HTTP exporter when an endpoint is configured. Must run before
 * `pg` and the HTTP server are loaded: `node --import ./src/platform/telemetry/register.ts`.
 * Idempotent; a no-op when disabled.
 */
export function startTelemetry(options: TelemetryOptions): void {
  if (sdk || !options.enabled) return;
  sdk = new NodeSDK({
    serviceName: options.serviceName,
    // Without an endpoint spans are still created (log lines carry their ids) but go nowhere.
    spanProcessors: [options.otlpEndpoint ? exportingProcessor(options.sampling) : new NoopSpanProcessor()],
    // Without our policy the SDK reads OTEL_TRACES_SAMPLER itself (its default: parent-based, always on).
    ...(options.sampling ? { sampler: createTraceSampler(options.sampling.ratio) } : {}),
    // Metrics are Prometheus (prom-client) and logs are pino on stdout: no OTel exporters for them,
    // which also keeps the SDK from defaulting to OTLP exporters that would post to localhost.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0] ?? ''),
      }),
      // Statements only inside a traced operation or worker (no root spans for pool upkeep or
      // readiness probes), and no pool-connect spans: pool use is a metric, and they were a third
      // of the spans of a typical request.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new UndiciInstrumentation(),
    ],
  });
  sdk.start();
  // The app is ESM: `import 'node:http'` does not pass through the require hook that applies the
  // HTTP instrumentation (it patches the module's prototypes). Requiring it once here does, for
  // every later ESM import too. `pg` is CommonJS and is patched when MikroORM loads it.
  createRequire(import.meta.url)('node:http');
}

/** Flushes pending spans and stops the SDK (at the end of a graceful shutdown). Safe to call when not started. */
export async function shutdownTelemetry(): Promise<void> {
  const current = sdk;
  sdk = undefined;
  await current?.shutdown();
}
