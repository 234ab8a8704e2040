import { parse, type ExecutionResult } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaceOrderDocument, ProductsDocument, UpdateOrderStatusDocument } from '../generated/operations.ts';
import { eventually } from '../ops/support/gateway.ts';
import { collect, startTestApp, type TestApp } from '../support/app.ts';
import { activeSubscriptions, untilActiveSubscriptions } from '../support/metrics.ts';

// Unexpected failures of subscriptions come out masked over both transports, as those of queries
// do (production.test.ts): "Unexpected error." with code INTERNAL_SERVER_ERROR, never SQL. Each
// kind of failure is made by renaming the table it reads for the length of the test: an event's
// execution (order lines), the setup before the stream (the order) and the stream itself (the
// snapshot's status history, read on the stream's first pull).

let app: TestApp;
let token: string;
let admin: string;
let productId: string;

beforeAll(async () => {
  app = await startTestApp();
  token = await app.demoToken('enterprise');
  admin = await app.demoToken('admin');
  const products = await app.execute(ProductsDocument, { first: 1, filter: { search: 'PLANT-MINI' } }, {});
  productId = products.data!.products.edges[0]!.node.id;
});
afterAll(() => app?.stop());

type Errors = readonly { message: string; extensions?: Record<string, unknown> }[];
const document = (source: string) => parse(source) as TypedDocumentNode<unknown, Record<string, unknown>>;

async function placeOrder(): Promise<string> {
  const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } }, { token });
  if (placed.data?.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
  return placed.data.placeOrder.order.id;
}

/** Runs `during` with `table` renamed away, so what reads it fails with a database error. */
async function withoutTable<T>(table: string, during: () => Promise<T>): Promise<T> {
  const orm = await app.db.openOrm();
  const connection = orm.em.getConnection();
  await connection.execute(`alter table "${table}" rename to "${table}_hidden"`);
  try {
    return await during();
  } finally {
    await connection.execute(`alter table "${table}_hidden" rename to "${table}"`);
    await orm.close();
  }
}

/** An SSE subscription (POST, graphql-sse's distinct connections mode) and its `data:` events as they arrive. */
function sse(query: string, variables: Record<string, unknown> = {}, requestId: string = crypto.randomUUID()) {
  const events: ExecutionResult[] = [];
  const response = fetch(app.running.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}`, 'x-request-id': requestId },
    body: JSON.stringify({ query, variables }),
  });
  const controller = new AbortController();
  const reading = (async () => {
    const reader = (await response).body!.pipeThrough(new TextDecoderStream()).getReader();
    controller.signal.addEventListener('abort', () => void reader.cancel().catch(() => undefined));
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const data = buffer.slice(0, end).split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).join('\n');
        buffer = buffer.slice(end + 2);
        if (data) events.push(JSON.parse(data) as ExecutionResult);
      }
    }
  })();
  return { events, reading, close: () => controller.abort() };
}

const expectMasked = (errors: Errors | undefined, text: string) => {
  expect(errors?.length).toBeGreaterThan(0);
  for (const error of errors!) {
    expect(error.message).toBe('Unexpected error.');
    expect(error.extensions?.['code']).toBe('INTERNAL_SERVER_ERROR');
  }
  expect(text).not.toMatch(/relation|hidden|select |order_lines|order_status_history|"orders"|stack/i);
};

describe('unexpected failures of subscriptions', () => {
  it('are masked in an event, over graphql-ws and SSE', async () => {
    const query = 'subscription { orderStatusChanged { version to order { id lines { quantity } } } }';
    const before = await activeSubscriptions(app.running.url);
    const ws = collect(app.wsClient(token), document(query), {});
    const stream = sse(query);
    await untilActiveSubscriptions(app.running.url, before + 2);
    const orderId = await placeOrder();
    await ws.waitFor(2, 10_000); // PENDING, PAID
    await withoutTable('order_lines', async () => {
      const shipped = await app.execute(UpdateOrderStatusDocument, { input: { orderId, status: 'SHIPPED', expectedVersion: 2 } }, { token: admin });
      expect(shipped.data?.updateOrderStatus.__typename).toBe('UpdateOrderStatusSuccess');
      // Both while the table is away: a result with errors is not shared, each subscriber runs its own.
      await ws.waitFor(3, 10_000);
      await eventually(() => stream.events.some((event) => event.errors), 10_000, 20, 'the SSE event');
    });
    const [wsEvent] = ws.events.slice(2);
    expectMasked(wsEvent!.errors as Errors, JSON.stringify(wsEvent));
    const sseEvent = stream.events.find((event) => event.errors)!;
    stream.close();
    expectMasked(sseEvent.errors as Errors, JSON.stringify(sseEvent));
    ws.unsubscribe();
  });

  it('are masked before the stream starts, over graphql-ws and SSE', async () => {
    const orderId = await placeOrder();
    const query = 'subscription($orderId: ID!) { orderStatusChanged(orderId: $orderId) { version } }';
    await withoutTable('orders', async () => {
      const ws = collect(app.wsClient(token), document(query), { orderId });
      await ws.done;
      const wsResult = ws.events[0] ?? ws.errors[0];
      expectMasked(((wsResult as ExecutionResult).errors ?? (wsResult as Errors)) as Errors, JSON.stringify(wsResult));
      // Over HTTP the single result also names the request, as a query's does.
      const stream = sse(query, { orderId }, 'support-ticket-43');
      await stream.reading;
      expectMasked(stream.events[0]?.errors as Errors, JSON.stringify(stream.events));
      expect(stream.events[0]?.errors?.[0]?.extensions?.['requestId']).toBe('support-ticket-43');
    });
  });

  it('are masked when the stream itself fails, over graphql-ws and SSE', async () => {
    const orderId = await placeOrder();
    const query = 'subscription($orderId: ID!) { orderStatusChanged(orderId: $orderId, snapshot: true) { version } }';
    await withoutTable('order_status_history', async () => {
      const ws = collect(app.wsClient(token), document(query), { orderId });
      await ws.done;
      const wsResult = ws.events[0] ?? ws.errors[0];
      expectMasked(((wsResult as ExecutionResult).errors ?? (wsResult as Errors)) as Errors, JSON.stringify(wsResult));
      const stream = sse(query, { orderId });
      await stream.reading;
      expectMasked(stream.events[0]?.errors as Errors, JSON.stringify(stream.events));
    });
  });
});

