import { createNoopMeter, SpanStatusCode, TraceFlags, type Context, type Counter, type Meter, type MeterProvider, type MetricAttributes, type SpanContext } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import {
  createAlwaysRecordSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { TracePipelineCounts } from './pipeline-counts.ts';

/**
 * Why an unsampled trace was exported anyway: a span of it failed (`error`), or it lasted at least
 * the slow threshold (`slow`). Exported spans of such a trace carry it as {@link KEPT_ATTRIBUTE}.
 */
export type KeepReason = 'error' | 'slow';

/** Attribute on every span exported by a tail rule, not by head sampling: such traces are not a uniform sample. */
export const KEPT_ATTRIBUTE = 'ordergraph.sampling.kept';

/**
 * Root spans linked to a sampled context are sampled: an order event's delivery (tracing.ts,
 * `traceDeliveries`) starts its own trace with a link to the mutation that caused it, and the
 * W3C sampled flag travels with that link, so a sampled mutation's events are traced too.
 * Other roots are left to `delegate`.
 */
function followSampledLinks(delegate: Sampler): Sampler {
  return {
    shouldSample(context, traceId, spanName, spanKind, attributes, links) {
      for (const link of links) if (link.context.traceFlags & TraceFlags.SAMPLED) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
      return delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
    },
    toString: () => `FollowSampledLinks{${delegate.toString()}}`,
  };
}

/**
 * Ordergraph's head sampler (docs/adr/0009): parent-based, new traces sampled at `ratio` (0–1, by
 * trace id) unless linked to a sampled one, and every span RECORDED even when not sampled, so
 * {@link TailSamplingSpanProcessor} can still export failed and slow traces. The SDK's always-record
 * wrapper applies to remote parents too: a caller that did not sample its trace (an ingress sampling
 * 1 %) still gets our failures exported, as a fragment of its trace.
 */
export function createTraceSampler(ratio: number): Sampler {
  return createAlwaysRecordSampler(new ParentBasedSampler({ root: followSampledLinks(new TraceIdRatioBasedSampler(ratio)) }));
}

/** Limits of {@link TailSamplingSpanProcessor}'s memory. */
export interface TailSamplingLimits {
  /** Undecided traces buffered at once; past it the oldest is dropped (default 1,000). */
  readonly maxTraces?: number;
  /** Spans buffered per trace; past it the trace's oldest span is dropped (default 256). */
  readonly maxSpansPerTrace?: number;
  /** Kept trace ids remembered so spans ending after their decision are exported too (default 1,000). */
  readonly rememberedTraces?: number;
}

/** An unsampled trace waiting for its decision. */
interface OpenTrace {
  readonly rootSpanId: string;
  /** Start of its local root, ms since the epoch. */
  readonly startMs: number;
  readonly spans: ReadableSpan[];
  error: boolean;
}

/** The GraphQL operation span's type attribute (tracing.ts). */
const OPERATION_TYPE = 'graphql.operation.type';
/** An expected failure returned by a use case (errors as data, ADR 0003; tracing.ts). */
const ERROR_CODE = 'app.error.code';

const isSampled = (span: ReadableSpan | Span) => (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
const failed = (span: ReadableSpan) => span.status.code === SpanStatusCode.ERROR || span.attributes[ERROR_CODE] !== undefined;

/**
 * `span` as exported by a tail rule: flagged sampled (the batch processor exports only sampled
 * spans, and the trace now is sampled, by its outcome) and marked with {@link KEPT_ATTRIBUTE}.
 * A view: the recorded span itself is left as it is.
 */
function keptView(span: ReadableSpan, reason: KeepReason): ReadableSpan {
  const recorded = span.spanContext();
  const context: SpanContext = { ...recorded, traceFlags: recorded.traceFlags | TraceFlags.SAMPLED };
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => context,
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: { ...span.attributes, [KEPT_ATTRIBUTE]: reason },
    links: span.links,
    events: span.events,
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/**
 * Tail rules in front of an exporting processor (the SDK's BatchSpanProcessor): spans of sampled
 * traces go straight through; an unsampled trace's spans are buffered until its local root (a span
 * without a parent in this process) ends, and then exported whole if any span of it failed (status
 * ERROR, or an expected failure returned by a use case: `app.error.code`) or the root lasted at
 * least `slowMs`, else dropped. A trace open for `slowMs` is kept at once (its root will be slow).
 * A subscription's trace is decided when its operation span ends: its HTTP root lasts as long as
 * the stream, its operation span covers the setup. Memory is bounded ({@link TailSamplingLimits});
 * what the bounds cost is counted in `counts`.
 */
export class TailSamplingSpanProcessor implements SpanProcessor {
  readonly #next: SpanProcessor;
  readonly #slowMs: number;
  readonly #counts: TracePipelineCounts;
  readonly #maxTraces: number;
  readonly #maxSpansPerTrace: number;
  readonly #rememberedTraces: number;
  /** By trace id, in the order their roots started (Map order), so the oldest come first. */
  readonly #open = new Map<string, OpenTrace>();
  /** Recently kept trace ids, oldest first. Traces not here and not open were dropped. */
  readonly #kept = new Map<string, KeepReason>();

  /**
   * @param next the processor that exports (it sees only sampled spans).
   * @param slowMs a local trace lasting at least this long (ms) is kept.
   * @param counts where kept traces and dropped spans are counted.
   */
  constructor(next: SpanProcessor, slowMs: number, counts: TracePipelineCounts, limits: TailSamplingLimits = {}) {
    this.#next = next;
    this.#slowMs = slowMs;
    this.#counts = counts;
    this.#maxTraces = limits.maxTraces ?? 1_000;
    this.#maxSpansPerTrace = limits.maxSpansPerTrace ?? 256;
    this.#rememberedTraces = limits.rememberedTraces ?? 1_000;
  }

  onStart(span: Span, parentContext: Context): void {
    this.#next.onStart(span, parentContext);
    if (isSampled(span)) return;
    const parent = span.parentSpanContext;
    if (parent && !parent.isRemote) return;
    const startMs = hrTimeToMilliseconds(span.startTime);
    this.#keepSlow(startMs);
    const { traceId, spanId } = span.spanContext();
    // A second local root of an open trace (a caller sending two requests in one trace) shares its buffer and decision.
    if (this.#open.has(traceId)) return;
    this.#open.set(traceId, { rootSpanId: spanId, startMs, spans: [], error: false });
    if (this.#open.size > this.#maxTraces) {
      const [oldestId, oldest] = this.#open.entries().next().value!;
      this.#open.delete(oldestId);
      this.#counts.spansDropped.traceBufferFull += oldest.spans.length;
    }
  }

  onEnd(span: ReadableSpan): void {
    if (isSampled(span)) {
      this.#next.onEnd(span);
      return;
    }
    const { traceId, spanId } = span.spanContext();
    const open = this.#open.get(traceId);
    if (!open) {
      // Decided already (or given up): a span ending after its trace's decision follows it.
      const reason = this.#kept.get(traceId);
      if (reason) this.#next.onEnd(keptView(span, reason));
      return;
    }
    if (failed(span)) open.error = true;
    if (open.spans.length >= this.#maxSpansPerTrace) {
      open.spans.shift();
      this.#counts.spansDropped.traceBufferFull += 1;
    }
    open.spans.push(span);
    if (spanId === open.rootSpanId || span.attributes[OPERATION_TYPE] === 'subscription') {
      this.#open.delete(traceId);
      if (open.error) this.#keep(traceId, open.spans, 'error');
      else if (hrTimeToMilliseconds(span.duration) >= this.#slowMs) this.#keep(traceId, open.spans, 'slow');
    }
  }

  forceFlush(): Promise<void> {
    return this.#next.forceFlush();
  }

  /** Exports the failed traces still open (their roots will not end now), then shuts the exporter down. */
  shutdown(): Promise<void> {
    for (const [traceId, open] of this.#open) if (open.error) this.#keep(traceId, open.spans, 'error');
    this.#open.clear();
    return this.#next.shutdown();
  }

  /** Keeps the traces whose roots started at least `slowMs` before `nowMs`: they are slow whatever happens next. */
  #keepSlow(nowMs: number): void {
    for (const [traceId, open] of this.#open) {
      if (nowMs - open.startMs < this.#slowMs) return;
      this.#open.delete(traceId);
      this.#keep(traceId, open.spans, open.error ? 'error' : 'slow');
    }
  }

  #keep(traceId: string, spans: readonly ReadableSpan[], reason: KeepReason): void {
    this.#counts.kept[reason] += 1;
    this.#kept.set(traceId, reason);
    if (this.#kept.size > this.#rememberedTraces) this.#kept.delete(this.#kept.keys().next().value!);
    for (const span of spans) this.#next.onEnd(keptView(span, reason));
  }
}

/** The SDK's self-observability counter of processed spans (semantic conventions, `otel.sdk.*`). */
const PROCESSED_SPANS = 'otel.sdk.processor.span.processed';

/**
 * A meter provider for the batch span processor's `selfObsMeterProvider` (experimental option of
 * the SDK) that only counts the spans it refuses with a full queue (`error.type=queue_full`) into
 * `counts`: we have no OpenTelemetry metrics pipeline (metrics are Prometheus), and the processor
 * otherwise drops them with at most a diagnostic log line.
 */
export function queueDropMeterProvider(counts: TracePipelineCounts): MeterProvider {
  const noop = createNoopMeter();
  const processed: Counter = {
    add: (value: number, attributes?: MetricAttributes) => {
      if (attributes?.['error.type'] === 'queue_full') counts.spansDropped.exportQueueFull += value;
    },
  };
  const meter: Meter = Object.assign(Object.create(noop) as Meter, {
    createCounter: (name: string, options?: Parameters<Meter['createCounter']>[1]) => (name === PROCESSED_SPANS ? processed : noop.createCounter(name, options)),
  });
  return { getMeter: () => meter };
}
