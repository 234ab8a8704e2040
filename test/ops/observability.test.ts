import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import {
  cheapProducts,
  demoToken,
  eventually,
  generateJwtKey,
  gql,
  PLACE_ORDER,
  PRODUCTS,
  startFakeCollector,
  startGateway,
  wsClient,
  FOLLOW_ORDER,
  type CollectedSpan,
  type FakeCollector,
  type Gateway,
} from './support/gateway.ts';

// One real gateway process (as `npm start` runs it, with the OpenTelemetry SDK preloaded) exporting
// traces to a stand-in collector on loopback; traffic of every kind, then traces, metrics and logs.
let db: TestDatabase;
let collector: FakeCollector;
let gateway: Gateway;

beforeAll(async () => {
  db = await createTestDatabase();
  collector = await startFakeCollector();
  gateway = await startGateway({
    DATABASE_URL: db.url,
    DB_POOL_MAX: String(db.poolMax),
    JWT_PRIVATE_KEY: generateJwtKey(),
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    ORDER_LOG_POLL_MS: '50',
  });
});

afterAll(async () => {
  await gateway?.stop();
  await collector?.close();
  await db?.close();
});

const metricValue = (text: string, name: string, labels: Record<string, string> = {}): number | undefined => {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
};

describe('observability of a running gateway', () => {
  let token: string;
  let metricsText = '';
  let placedOrderId: string;
  const events: { version: number; to: string }[] = [];

  it('echoes a given x-request-id, generates one otherwise, and logs the request with its trace', async () => {
    token = await demoToken(gateway.url, 'premium');
    const given = await gql(gateway.url, PRODUCTS, { first: 5 }, { token, headers: { 'x-request-id': 'ops-req-0001' } });
    expect(given.body.errors).toBeUndefined();
    expect(given.response.headers.get('x-request-id')).toBe('ops-req-0001');

    const generated = await gql(gateway.url, PRODUCTS, { first: 1 });
    expect(generated.response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const line = await gateway.waitForLog((l) => l.requestId === 'ops-req-0001' && l.msg === 'graphql operation');
    expect(line).toMatchObject({ operationName: 'Products', operationType: 'query', outcome: 'success', customerId: expect.any(String) });
    expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('streams order events to a graphql-ws subscriber and counts what happens', async () => {
    const client = wsClient(gateway.url, token);
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe<{ orderStatusChanged: { version: number; to: string } }>(
        { query: FOLLOW_ORDER, variables: {} },
        { next: (value) => void (value.data && events.push(value.data.orderStatusChanged)), error: reject, complete: resolve },
      );
    });
    void done.catch(() => undefined);
    const metrics = async () => (await fetch(`${gateway.origin}/metrics`)).text();
    await eventually(async () => metricValue(await metrics(), 'ordergraph_graphql_active_subscriptions') === 1, 10_000, 100, 'the subscription to be active');

    const [productId] = await cheapProducts(gateway.url);
    const placed = await gql<{ placeOrder: { __typename: string; order: { id: string; status: string } } }>(gateway.url, PLACE_ORDER, {
      input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] },
    }, { token });
    expect(placed.body.data?.placeOrder).toMatchObject({ __typename: 'PlaceOrderSuccess', order: { status: 'PAID' } });
    placedOrderId = placed.body.data!.placeOrder.order.id;
    await eventually(() => events.length >= 2, 10_000, 50, 'PENDING and PAID to arrive');
    expect(events.slice(0, 2).map((e) => [e.version, e.to])).toEqual([[1, 'PENDING'], [2, 'PAID']]);

    // Errors of several kinds: a declined payment (errors as data), an invalid query, a bad token.
    const monitor = (await gql<{ products: { edges: { node: { id: string; sku: string } }[] } }>(gateway.url, PRODUCTS, { first: 50 })).body.data!.products.edges.find((e) => e.node.sku === 'MONITOR-27')!.node.id;
    const declined = await gql<{ placeOrder: { __typename: string } }>(gateway.url, PLACE_ORDER, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId: monitor, quantity: 1 }] } }, { token });
    expect(declined.body.data?.placeOrder.__typename).toBe('PaymentDeclinedError');
    const invalid = await gql(gateway.url, 'query Broken { nope }');
    expect(invalid.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const unauthenticated = await gql(gateway.url, PRODUCTS, { first: 1 }, { token: 'not.a.token' });
    expect(unauthenticated.response.status).toBe(401);

    metricsText = await metrics();
    client.terminate();
  });

  it('serves the issue’s metrics on /metrics', () => {
    const text = metricsText;
    expect(metricValue(text, 'graphql_envelop_request_duration_count', { operationName: 'Products', operationType: 'query', outcome: 'success' })).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, 'graphql_envelop_request_duration_count', { operationName: 'PlaceOrder', operationType: 'mutation', outcome: 'success' })).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, 'graphql_envelop_error_result', { code: 'GRAPHQL_VALIDATION_FAILED' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'graphql_envelop_error_result', { code: 'UNAUTHENTICATED' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'ordergraph_use_case_failures_total', { code: 'PAYMENT_DECLINED' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'ordergraph_websocket_connections')).toBe(1);
    expect(metricValue(text, 'ordergraph_graphql_active_subscriptions')).toBe(1);
    expect(metricValue(text, 'ordergraph_db_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(0);
    expect(metricValue(text, "ordergraph_db_pool_connections", { state: "waiting" })).toBeGreaterThanOrEqual(0);
    expect(metricValue(text, 'ordergraph_db_pool_max_connections')).toBe(db.poolMax);
    expect(metricValue(text, 'ordergraph_order_event_publish_lag_seconds_count')).toBeGreaterThanOrEqual(2);
    // The simulated provider has no circuit breaker: the metric is declared, with no sample (see health.test.ts for one with a breaker).
    expect(text).toContain('# TYPE ordergraph_payment_circuit_breaker_state gauge');
    expect(metricValue(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('traces a request from HTTP through the named operation and its use cases to every SQL statement', async () => {
    const byId = new Map<string, CollectedSpan>();
    const find = (predicate: (s: CollectedSpan) => boolean) => collector.spans.find(predicate);
    await eventually(() => Boolean(find((s) => s.name === 'query Products') && find((s) => s.name === 'mutation PlaceOrder') && find((s) => s.name === 'order-status-changed deliver')), 10_000, 100, 'spans to be exported');
    for (const span of collector.spans) byId.set(span.spanId, span);
    const ancestors = (span: CollectedSpan): CollectedSpan[] => {
      const chain: CollectedSpan[] = [];
      for (let parent = span.parentSpanId && byId.get(span.parentSpanId); parent; parent = parent.parentSpanId && byId.get(parent.parentSpanId)) chain.push(parent);
      return chain;
    };

    const operation = find((s) => s.name === 'query Products' && s.attributes['graphql.operation.name'] === 'Products')!;
    const http = byId.get(operation.parentSpanId!)!;
    expect(http).toMatchObject({ kind: 2 /* SERVER */, scope: '@opentelemetry/instrumentation-http' });
    const useCase = find((s) => s.name === 'catalog.listProducts' && s.parentSpanId === operation.spanId);
    expect(useCase).toBeDefined();
    const sql = collector.spans.filter((s) => s.scope === '@opentelemetry/instrumentation-pg' && s.traceId === operation.traceId && s.name.startsWith('pg.query'));
    expect(sql.length).toBeGreaterThanOrEqual(1);
    for (const statement of sql) expect(ancestors(statement).map((s) => s.spanId)).toContain(useCase!.spanId);
    // No span per resolver: one request is a handful of spans, not one per field.
    expect(collector.spans.filter((s) => s.traceId === operation.traceId).length).toBeLessThan(20);
  });

  it('links the span that delivers an order event to the mutation that caused it', () => {
    const mutation = collector.spans.find((s) => s.name === 'mutation PlaceOrder' && collector.spans.some((u) => u.parentSpanId === s.spanId && u.name === 'orders.placeOrder'))!;
    const deliveries = collector.spans.filter((s) => s.name === 'order-status-changed deliver' && s.attributes['ordergraph.order.version'] !== undefined && s.links.some((l) => l.traceId === mutation.traceId));
    expect(deliveries.length).toBeGreaterThanOrEqual(2);
    for (const delivery of deliveries) {
      expect(delivery.kind).toBe(5 /* CONSUMER */);
      expect(delivery.traceId).not.toBe(mutation.traceId);
      // The link points at a span inside the mutation's trace (the use case that committed the change).
      const linked = collector.spans.find((s) => s.spanId === delivery.links[0]!.spanId);
      expect(linked?.traceId).toBe(mutation.traceId);
    }
    expect(placedOrderId).toBeTruthy();
  });

  it('writes JSON logs with request and trace ids and never a password, token or signature', () => {
    const output = gateway.output();
    expect(output).not.toContain('demo-pass-premium');
    expect(output).not.toContain(token);
    expect(output).not.toContain(token.split('.')[2]!);
    const operations = gateway.lines.filter((l) => l.msg === 'graphql operation');
    expect(operations.length).toBeGreaterThanOrEqual(5);
    for (const line of operations) {
      expect(line.requestId).toEqual(expect.any(String));
      expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(line.level).toEqual(expect.any(Number));
    }
    expect(operations.some((l) => l.operationName === 'SignIn')).toBe(true);
  });
});
