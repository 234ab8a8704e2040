import { ROOT_CONTEXT, SpanStatusCode, TraceFlags, trace, type Context, type Span as ApiSpan } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import type { TracePipelineCounts } from './pipeline-counts.ts';
import { createTraceSampler, KEPT_ATTRIBUTE, queueDropMeterProvider, TailSamplingSpanProcessor, type TailSamplingLimits } from './sampling.ts';

/** What the exporting processor was handed, in order. */
interface Exported {
  readonly name: string;
  readonly traceId: string;
  readonly sampled: boolean;
  readonly kept: unknown;
}

const SLOW_MS = 1_000;
const T0 = 1_700_000_000_000;

function pipeline(ratio: number, limits: TailSamplingLimits = {}) {
  const exported: Exported[] = [];
  const next: SpanProcessor = {
    onStart: () => {},
    onEnd: (span: ReadableSpan) =>
      void exported.push({ name: span.name, traceId: span.spanContext().traceId, sampled: (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0, kept: span.attributes[KEPT_ATTRIBUTE] }),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const counts: TracePipelineCounts = { kept: { error: 0, slow: 0 }, spansDropped: { exportQueueFull: 0, traceBufferFull: 0 } };
  const processor = new TailSamplingSpanProcessor(next, SLOW_MS, counts, limits);
  const tracer = new TracerProvider({ sampler: createTraceSampler(ratio), spanProcessors: [processor] }).getTracer('test');
  /** Starts a span at `atMs` after T0, under `parent` (a span or a context; none: a new trace). */
  const start = (name: string, atMs: number, parent?: ApiSpan | Context, options: { links?: { context: ReturnType<ApiSpan['spanContext']> }[]; attributes?: Record<string, string> } = {}) =>
    tracer.startSpan(name, { startTime: T0 + atMs, ...options }, parent === undefined ? ROOT_CONTEXT : 'spanContext' in parent ? trace.setSpan(ROOT_CONTEXT, parent) : parent);
  return { exported, counts, processor, start, names: () => exported.map((e) => e.name) };
}

const remoteParent = (traceFlags: number): Context =>
  trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags, isRemote: true });

describe('trace sampling policy (sampler and tail rules)', () => {
  it('records every span of an unsampled trace, and exports none of a fast successful one', () => {
    const { start, exported } = pipeline(0);
    const root = start('POST', 0);
    const child = start('query Products', 1, root);
    expect(root.isRecording()).toBe(true);
    expect(child.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(0);
    child.end(T0 + 5);
    root.end(T0 + 6);
    start('late', 7, root).end(T0 + 8);
    expect(exported).toEqual([]);
  });

  it('exports every span of a sampled trace as it ends, unmarked', () => {
    const { start, exported } = pipeline(1);
    const root = start('POST', 0);
    start('SELECT', 1, root).end(T0 + 2);
    expect(exported).toEqual([{ name: 'SELECT', traceId: root.spanContext().traceId, sampled: true, kept: undefined }]);
  });

  it('holds a failed trace until its root ends, then exports it whole, flagged sampled and marked, with spans ending later', () => {
    const { start, exported, names, counts } = pipeline(0);
    const root = start('POST', 0);
    const operation = start('query OrderById', 1, root);
    start('SELECT', 2, operation).end(T0 + 3);
    operation.setStatus({ code: SpanStatusCode.ERROR }).end(T0 + 4);
    expect(exported).toEqual([]);
    root.end(T0 + 5);
    expect(names()).toEqual(['SELECT', 'query OrderById', 'POST']);
    expect(exported.every((e) => e.sampled && e.kept === 'error')).toBe(true);
    start('late', 6, root).end(T0 + 7);
    expect(names().at(-1)).toBe('late');
    expect(counts.kept).toEqual({ error: 1, slow: 0 });
  });

  it('keeps a trace whose use case returned an expected failure (errors as data)', () => {
    const { start, names } = pipeline(0);
    const root = start('POST', 0);
    const useCase = start('orders.placeOrder', 1, root);
    useCase.setAttribute('app.error.code', 'PAYMENT_DECLINED');
    useCase.end(T0 + 2);
    root.end(T0 + 3);
    expect(names()).toEqual(['orders.placeOrder', 'POST']);
  });

  it('keeps a trace whose root lasted the slow threshold, not one just under it', () => {
    const { start, exported, counts } = pipeline(0);
    const fast = start('POST fast', 0);
    fast.end(T0 + SLOW_MS - 1);
    const slow = start('POST slow', 0);
    slow.end(T0 + SLOW_MS);
    expect(exported).toEqual([{ name: 'POST slow', traceId: slow.spanContext().traceId, sampled: true, kept: 'slow' }]);
    expect(counts.kept.slow).toBe(1);
  });

  it('keeps a trace still open after the slow threshold at once, and exports its later spans as they end', () => {
    const { start, names } = pipeline(0);
    const stream = start('GET stream', 0);
    start('SELECT', 1, stream).end(T0 + 2);
    start('POST other', SLOW_MS + 5);
    expect(names()).toEqual(['SELECT']);
    stream.end(T0 + 60_000);
    expect(names()).toEqual(['SELECT', 'GET stream']);
  });

  it('decides a subscription over HTTP when its operation span ends, not when the stream does', () => {
    const { start, exported } = pipeline(0);
    const http = start('GET', 0);
    start('subscription Follow', 1, http, { attributes: { 'graphql.operation.type': 'subscription' } }).end(T0 + 3);
    http.end(T0 + 3_600_000);
    expect(exported).toEqual([]);
  });

  it('records under a remote parent that did not sample, keeping a failure; follows one that did', () => {
    const unsampled = pipeline(1);
    const request = unsampled.start('POST', 0, remoteParent(TraceFlags.NONE));
    expect(request.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(0);
    request.setStatus({ code: SpanStatusCode.ERROR }).end(T0 + 1);
    expect(unsampled.exported).toEqual([{ name: 'POST', traceId: '0af7651916cd43dd8448eb211c80319c', sampled: true, kept: 'error' }]);

    const sampled = pipeline(0);
    sampled.start('POST', 0, remoteParent(TraceFlags.SAMPLED)).end(T0 + 1);
    expect(sampled.names()).toEqual(['POST']);
  });

  it('samples a new trace linked to a sampled one (an order event delivered after a sampled mutation)', () => {
    const { start, names } = pipeline(0);
    const linked = remoteParent(TraceFlags.SAMPLED);
    start('order-status-changed deliver', 0, undefined, { links: [{ context: trace.getSpanContext(linked)! }] }).end(T0 + 1);
    start('unlinked deliver', 0).end(T0 + 1);
    expect(names()).toEqual(['order-status-changed deliver']);
  });

  it('bounds its memory: the oldest open trace and a trace’s oldest spans are dropped, and counted', () => {
    const { start, names, counts } = pipeline(0, { maxTraces: 2, maxSpansPerTrace: 2 });
    const first = start('POST 1', 0);
    start('SELECT 1', 1, first).end(T0 + 2);
    const second = start('POST 2', 3);
    start('POST 3', 4);
    expect(counts.spansDropped.traceBufferFull).toBe(1);
    first.setStatus({ code: SpanStatusCode.ERROR }).end(T0 + 5);
    expect(names()).toEqual([]);

    for (const n of [1, 2, 3]) start(`SELECT ${n}`, 5 + n, second).end(T0 + 6 + n);
    second.setStatus({ code: SpanStatusCode.ERROR }).end(T0 + 10);
    expect(names()).toEqual(['SELECT 3', 'POST 2']);
    expect(counts.spansDropped.traceBufferFull).toBe(3);
  });

  it('exports the failed traces still open when it shuts down', async () => {
    const { start, names, processor } = pipeline(0);
    const root = start('POST', 0);
    start('SELECT', 1, root).setStatus({ code: SpanStatusCode.ERROR }).end(T0 + 2);
    start('POST fine', 3);
    await processor.shutdown();
    expect(names()).toEqual(['SELECT']);
  });

  it('counts the spans the batch processor refuses with a full queue', async () => {
    const counts: TracePipelineCounts = { kept: { error: 0, slow: 0 }, spansDropped: { exportQueueFull: 0, traceBufferFull: 0 } };
    const pending: ((result: ExportResult) => void)[] = [];
    let stall = true;
    const stalled: SpanExporter = { export: (_spans, done) => (stall ? void pending.push(done) : done({ code: ExportResultCode.SUCCESS })), shutdown: async () => {} };
    const batch = new BatchSpanProcessor({ exporter: stalled, maxQueueSize: 2, maxExportBatchSize: 2, scheduledDelayMillis: 60_000, selfObsMeterProvider: queueDropMeterProvider(counts) });
    const tracer = new TracerProvider({ sampler: createTraceSampler(1), spanProcessors: [batch] }).getTracer('test');
    // The first two fill a batch, which goes to the stalled exporter; two more fill the queue again.
    for (let i = 0; i < 7; i += 1) tracer.startSpan(`span ${i}`, {}, ROOT_CONTEXT).end();
    expect(counts.spansDropped.exportQueueFull).toBe(3);
    // Let the exports finish so the processor's timers end with the test.
    stall = false;
    for (const done of pending.splice(0)) done({ code: ExportResultCode.SUCCESS });
    await batch.shutdown();
  });
});
