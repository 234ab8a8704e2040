import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import {
  cheapProducts,
  demoToken,
  eventually,
  FOLLOW_ORDER,
  generateJwtKey,
  gql,
  PLACE_ORDER,
  PRODUCTS,
  startFakeCollector,
  startGateway,
  wsClient,
  type CollectedSpan,
  type FakeCollector,
  type Gateway,
} from './support/gateway.ts';

// Gateways started as `npm start` runs them, exporting to a stand-in collector, with head sampling
// at ratio 0: only the tail rules (errors, slow operations) and a caller's sampled flag decide what
// is exported (docs/adr/0009). Ratio 1 (the default outside production) is observability.test.ts.
let db: TestDatabase;
const jwtKey = generateJwtKey();

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.close();
});

const SERVER = 2;
const CONSUMER = 5;
const STATUS_ERROR = 2;

/** Starts a gateway with tracing exported to its own collector, on top of `env`. */
async function tracedGateway(env: Record<string, string>): Promise<{ gateway: Gateway; collector: FakeCollector }> {
  const collector = await startFakeCollector();
  const gateway = await startGateway({
    DATABASE_URL: db.url,
    DB_POOL_MAX: String(db.poolMax),
    JWT_PRIVATE_KEY: jwtKey,
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '50',
    ORDER_LOG_POLL_MS: '50',
    ...env,
  });
  return { gateway, collector };
}

/** The trace id of the request sent with `x-request-id: requestId`, from its access-log line. */
async function traceIdOf(gateway: Gateway, requestId: string): Promise<string> {
  const line = await gateway.waitForLog((l) => l.requestId === requestId && l.msg === 'graphql operation');
  return String(line.trace_id);
}

/**
 * The spans of trace `traceId` once its HTTP server span (the local root, which ends last and so is
 * exported last: the batch processor exports in order, one batch at a time) has arrived.
 */
async function exportedTrace(collector: FakeCollector, traceId: string): Promise<CollectedSpan[]> {
  await eventually(() => collector.spans.some((s) => s.traceId === traceId && s.kind === SERVER && s.scope === '@opentelemetry/instrumentation-http'), 10_000, 20, `trace ${traceId} to be exported`);
  return collector.spans.filter((s) => s.traceId === traceId);
}

/** Asserts one root, the HTTP server span, and every other span's parent exported in the same trace. */
function expectWhole(spans: readonly CollectedSpan[]): { http: CollectedSpan; byId: Map<string, CollectedSpan> } {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const roots = spans.filter((s) => !s.parentSpanId);
  expect(roots.map((s) => [s.kind, s.scope])).toEqual([[SERVER, '@opentelemetry/instrumentation-http']]);
  const orphans = spans.filter((s) => s.parentSpanId && !byId.has(s.parentSpanId)).map((s) => s.name);
  expect(orphans).toEqual([]);
  return { http: roots[0]!, byId };
}

/** Asserts HTTP → `operationName` → `useCase` → at least one SQL statement, each the parent of the next. */
function expectChain(spans: readonly CollectedSpan[], operationName: string, useCase: string): void {
  const { http, byId } = expectWhole(spans);
  const operation = spans.find((s) => s.name === operationName);
  expect(operation?.parentSpanId).toBe(http.spanId);
  const useCaseSpan = spans.find((s) => s.name === useCase && s.parentSpanId === operation!.spanId);
  expect(useCaseSpan).toBeDefined();
  const underUseCase = (span: CollectedSpan): boolean => {
    for (let parent = span.parentSpanId; parent; parent = byId.get(parent)?.parentSpanId) if (parent === useCaseSpan!.spanId) return true;
    return false;
  };
  expect(spans.filter((s) => s.scope === '@opentelemetry/instrumentation-pg' && underUseCase(s)).length).toBeGreaterThanOrEqual(1);
}

describe('trace sampling at ratio 0: errors kept whole, the rest dropped', () => {
  let gateway: Gateway;
  let collector: FakeCollector;
  let token: string;

  beforeAll(async () => {
    ({ gateway, collector } = await tracedGateway({ TRACE_SAMPLE_RATIO: '0', TRACE_SLOW_MS: '60000' }));
    token = await demoToken(gateway.url, 'premium');
  });

  afterAll(async () => {
    await gateway?.stop();
    await collector?.close();
  });

  it('exports nothing of a successful fast query', async () => {
    const fast = await gql(gateway.url, PRODUCTS, { first: 5 }, { token, headers: { 'x-request-id': 'sampling-fast-1' } });
    expect(fast.body.errors).toBeUndefined();
    // A request that is kept, sent after it: once its trace has arrived, anything exported before it has too.
    await gql(gateway.url, '{ order(id: "x") { id } }', {}, { token, headers: { 'x-request-id': 'sampling-marker-1' } });
    await exportedTrace(collector, await traceIdOf(gateway, 'sampling-marker-1'));

    const fastTrace = await traceIdOf(gateway, 'sampling-fast-1');
    expect(collector.spans.filter((s) => s.traceId === fastTrace).map((s) => s.name)).toEqual([]);
  });

  it('exports the whole trace of a query answered with a client error (a malformed id)', async () => {
    const bad = await gql(gateway.url, 'query OrderById { order(id: "x") { id } }', {}, { token, headers: { 'x-request-id': 'sampling-bad-id' } });
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const spans = await exportedTrace(collector, await traceIdOf(gateway, 'sampling-bad-id'));
    const { http } = expectWhole(spans);
    const operation = spans.find((s) => s.name === 'query OrderById');
    expect(operation).toMatchObject({ parentSpanId: http.spanId, status: STATUS_ERROR });
  });

  it('exports the whole trace of a mutation that fails (a declined payment): HTTP → operation → use case → SQL', async () => {
    const products = await gql<{ products: { edges: { node: { id: string; sku: string } }[] } }>(gateway.url, PRODUCTS, { first: 50 }, { token });
    const monitor = products.body.data!.products.edges.find((e) => e.node.sku === 'MONITOR-27')!.node.id;
    const declined = await gql<{ placeOrder: { __typename: string } }>(
      gateway.url,
      PLACE_ORDER,
      { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId: monitor, quantity: 1 }] } },
      { token, headers: { 'x-request-id': 'sampling-declined' } },
    );
    expect(declined.body.data?.placeOrder.__typename).toBe('PaymentDeclinedError');

    const spans = await exportedTrace(collector, await traceIdOf(gateway, 'sampling-declined'));
    expectChain(spans, 'mutation PlaceOrder', 'orders.placeOrder');
    expect(spans.find((s) => s.name === 'orders.placeOrder')?.attributes['app.error.code']).toBe('PAYMENT_DECLINED');
  });

  it('follows a caller’s sampled flag, and exports the deliveries of that mutation’s events, linked to it', async () => {
    const client = wsClient(gateway.url, token);
    const events: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe<{ orderStatusChanged: { to: string } }>(
        { query: FOLLOW_ORDER, variables: {} },
        { next: (value) => void (value.data && events.push(value.data.orderStatusChanged.to)), error: reject, complete: resolve },
      );
    });
    void done.catch(() => undefined);
    try {
      await eventually(async () => /ordergraph_graphql_active_subscriptions 1\b/.test(await (await fetch(`${gateway.origin}/metrics`)).text()), 10_000, 50, 'the subscription to be active');
      const traceId = randomBytes(16).toString('hex');
      const [productId] = await cheapProducts(gateway.url);
      const placed = await gql<{ placeOrder: { __typename: string } }>(
        gateway.url,
        PLACE_ORDER,
        { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } },
        { token, headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } },
      );
      expect(placed.body.data?.placeOrder.__typename).toBe('PlaceOrderSuccess');
      await eventually(() => events.length >= 2, 10_000, 50, 'PENDING and PAID to arrive');

      await eventually(() => collector.spans.filter((s) => s.name === 'order-status-changed deliver' && s.links.some((l) => l.traceId === traceId)).length >= 2, 10_000, 20, 'the deliveries to be exported');
      const mutation = collector.spans.filter((s) => s.traceId === traceId);
      expect(mutation.map((s) => s.name)).toContain('orders.placeOrder');
      for (const delivery of collector.spans.filter((s) => s.name === 'order-status-changed deliver' && s.links.some((l) => l.traceId === traceId))) {
        expect(delivery.kind).toBe(CONSUMER);
        expect(mutation.map((s) => s.spanId)).toContain(delivery.links[0]!.spanId);
      }
    } finally {
      client.terminate();
    }
  });

  it('counts each trace it keeps on /metrics, and drops no span on the way', async () => {
    const metrics = async () => (await fetch(`${gateway.origin}/metrics`)).text();
    const keptForErrors = async () => Number(/^ordergraph_traces_kept_total\{reason="error"\} (\d+)$/m.exec(await metrics())?.[1]);
    const before = await keptForErrors();
    await gql(gateway.url, '{ order(id: "x") { id } }', {}, { token });
    await eventually(async () => (await keptForErrors()) > before, 10_000, 20, 'the kept trace to be counted');
    expect(await metrics()).toMatch(/^ordergraph_trace_spans_dropped_total\{reason="export_queue_full"\} 0$/m);
  });
});

describe('trace sampling at ratio 0 with TRACE_SLOW_MS=0: every request is slow, so kept', () => {
  let gateway: Gateway;
  let collector: FakeCollector;

  beforeAll(async () => {
    ({ gateway, collector } = await tracedGateway({ TRACE_SAMPLE_RATIO: '0', TRACE_SLOW_MS: '0' }));
  });

  afterAll(async () => {
    await gateway?.stop();
    await collector?.close();
  });

  it('exports a successful query whole: HTTP → operation → use case → SQL', async () => {
    const ok = await gql(gateway.url, PRODUCTS, { first: 5 }, { headers: { 'x-request-id': 'sampling-slow-1' } });
    expect(ok.body.errors).toBeUndefined();
    expectChain(await exportedTrace(collector, await traceIdOf(gateway, 'sampling-slow-1')), 'query Products', 'catalog.listProducts');
  });
});
