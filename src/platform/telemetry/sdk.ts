import { createRequire } from 'node:module';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace';

/** What {@link startTelemetry} needs; `Config['telemetry']` has this shape. */
export interface TelemetryOptions {
  readonly enabled: boolean;
  readonly serviceName: string;
  /** OTLP/HTTP base URL (the exporter appends `/v1/traces`); undefined: spans are made but not exported. */
  readonly otlpEndpoint: string | undefined;
}

/** Incoming requests that get no span: probes and scrapes would drown the traces they sit beside. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics']);

// The one module-level singleton the project allows (issue #5): the SDK must be registered before
// the application's modules load, so it cannot be created by createApp.
let sdk: NodeSDK | undefined;

/**
 * Starts the OpenTelemetry Node SDK: spans for incoming HTTP (instrumentation-http), SQL
 * (instrumentation-pg, only inside a traced operation) and outgoing fetch (instrumentation-undici),
 * W3C trace context, and an OTLP/HTTP exporter when an endpoint is configured. Must run before
 * `pg` and the HTTP server are loaded: `node --import ./src/platform/telemetry/register.ts`.
 * Idempotent; a no-op when disabled.
 */
export function startTelemetry(options: TelemetryOptions): void {
  if (sdk || !options.enabled) return;
  sdk = new NodeSDK({
    serviceName: options.serviceName,
    // With an endpoint: a batch processor configured from the standard OTEL_BSP_* variables. Without
    // one, spans are still created (log lines carry their ids) but go nowhere.
    ...(options.otlpEndpoint ? { traceExporter: new OTLPTraceExporter() } : { spanProcessors: [new NoopSpanProcessor()] }),
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
