/**
 * What the span pipeline kept and lost, since the process started: `/metrics` reads it
 * (`ordergraph_traces_kept_total`, `ordergraph_trace_spans_dropped_total`). Process-wide like the
 * OpenTelemetry SDK it counts for (src/platform/telemetry/sdk.ts, the one module-level singleton),
 * and in a module of its own so the metrics need not load the SDK. All zero when tracing is off.
 */
export interface TracePipelineCounts {
  /** Traces not head-sampled but exported whole by the tail rules (docs/adr/0009), by rule. */
  readonly kept: { error: number; slow: number };
  readonly spansDropped: {
    /** Refused by the batch span processor because its queue was full (OTEL_BSP_MAX_QUEUE_SIZE). */
    exportQueueFull: number;
    /** Buffered spans of undecided traces given up to bound memory (too many open traces, or spans in one). */
    traceBufferFull: number;
  };
}

export const tracePipelineCounts: TracePipelineCounts = { kept: { error: 0, slow: 0 }, spansDropped: { exportQueueFull: 0, traceBufferFull: 0 } };
