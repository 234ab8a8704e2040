import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { signWebhook } from '../../src/modules/payments/module.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { eventually } from '../support/eventually.ts';
import { TEST_REDIS_URL } from '../support/redis.ts';
import { createStatementCounter } from '../support/statement-counter.ts';

// The response cache (issue 15, docs/adr/0015) on two instances sharing one database and one
// Redis: reads are cached per viewer scope, and every committed change (the order log, the
// catalog's, customers' and payments' writes over Redis pub/sub) makes the entries that contain it
// go, on both instances.

interface Answer<T = Record<string, unknown>> {
  readonly data?: T;
  readonly errors?: readonly { message: string; extensions?: { code?: string } }[];
  readonly extensions?: { readonly responseCache?: { readonly hit?: boolean; readonly didCache?: boolean; readonly ttl?: number } };
}

let a: TestApp;
let b: { url: string; stop: () => Promise<void> };
const counter = createStatementCounter();
const tokens: Record<'admin' | 'basic' | 'premium', string> = { admin: '', basic: '', premium: '' };
let productIds: string[] = [];
const WEBHOOK_SECRET = 'whsec_test_response_cache';

/** One operation over HTTP against `url` (instance A's or B's), as `token`'s viewer. */
async function gql<T = Record<string, unknown>>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<Answer<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Answer<T>;
}

const PRODUCTS = 'query CachedProducts { products(first: 100) { edges { node { id sku stock } } } }';
const ORDER = 'query CachedOrder($id: ID!) { order(id: $id) { id status version lines { quantity product { id name } } customer { id } } }';
const PLACE = `mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename ... on PlaceOrderSuccess { order { id status version } } } }`;
const SHIP = `mutation Move($input: UpdateOrderStatusInput!) { updateOrderStatus(input: $input) { __typename ... on UpdateOrderStatusSuccess { order { status version } } } }`;
const ADJUST = `mutation Adjust($input: AdjustStockInput!) { adjustStock(input: $input) { __typename ... on AdjustStockSuccess { product { id stock } } } }`;

async function placeOrder(url: string, token: string, productId = productIds[0]!): Promise<string> {
  const placed = await gql<{ placeOrder: { __typename: string; order: { id: string; status: string } } }>(url, PLACE, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } }, token);
  expect(placed.data?.placeOrder, JSON.stringify(placed)).toMatchObject({ __typename: 'PlaceOrderSuccess', order: { status: 'PAID' } });
  return placed.data!.placeOrder.order.id;
}

/**
 * Reads until the answer comes from the cache: a read right after a write may be stored and then
 * forgotten again when the log reader hears of that write a moment later.
 */
async function untilHit<T>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<Answer<T>> {
  return eventually(async () => {
    const answer = await gql<T>(url, query, variables, token);
    expect(answer.extensions?.responseCache?.hit).toBe(true);
    return answer;
  }, { what: 'a cache hit' });
}

const stockOf = (answer: Answer<{ products: { edges: { node: { id: string; stock: number } }[] } }>, id: string) => answer.data!.products.edges.find((e) => e.node.id === id)!.node.stock;

beforeAll(async () => {
  counter.install();
  a = await startTestApp({ env: { REDIS_URL: TEST_REDIS_URL, PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: a.db.url,
    DB_POOL_MAX: String(a.db.poolMax),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATA_DIR: a.config.dataDir,
    SEED_DEMO_DATA: 'false',
    REDIS_URL: TEST_REDIS_URL,
    PAYMENT_SIMULATED_LATENCY_MS: '5',
  });
  const app = createApp(config);
  const running = await app.start();
  b = { url: running.url, stop: () => app.stop() };
  for (const who of ['admin', 'basic', 'premium'] as const) tokens[who] = await a.demoToken(who);
  const products = await gql<{ products: { edges: { node: { id: string; stock: number } }[] } }>(a.running.url, PRODUCTS);
  productIds = products.data!.products.edges.filter((e) => e.node.stock > 100).map((e) => e.node.id);
  expect(productIds.length).toBeGreaterThan(1);
});
afterAll(async () => {
  counter.restore();
  await b?.stop();
  await a?.stop();
});

describe('cached reads are invalidated by committed changes on every instance', () => {
  it('serves a second read from the cache, and SHIPPED on both instances once the admin ships the order', async () => {
    const orderId = await placeOrder(a.running.url, tokens.basic);
    for (const url of [a.running.url, b.url]) {
      const first = await gql<{ order: { status: string } }>(url, ORDER, { id: orderId }, tokens.basic);
      expect(first.data?.order.status).toBe('PAID');
      expect(first.extensions?.responseCache).toMatchObject({ hit: false });
      const cached = await untilHit<{ order: { status: string } }>(url, ORDER, { id: orderId }, tokens.basic);
      expect(cached.data).toEqual(first.data);
    }
    const shipped = await gql<{ updateOrderStatus: { __typename: string } }>(a.running.url, SHIP, { input: { orderId, status: 'SHIPPED', expectedVersion: 2 } }, tokens.admin);
    expect(shipped.data?.updateOrderStatus.__typename, JSON.stringify(shipped)).toBe('UpdateOrderStatusSuccess');

    // The instance that shipped forgot the entry before answering the mutation.
    const here = await gql<{ order: { status: string; version: number } }>(a.running.url, ORDER, { id: orderId }, tokens.basic);
    expect(here.data?.order).toMatchObject({ status: 'SHIPPED', version: 3 });
    // The other instance hears it from the order log (rung over Redis).
    await eventually(async () => {
      const there = await gql<{ order: { status: string } }>(b.url, ORDER, { id: orderId }, tokens.basic);
      expect(there.data?.order.status).toBe('SHIPPED');
    }, { what: 'instance B to read SHIPPED' });
  });

  it('shows an adjustStock in the next products read, on the same instance at once and on the other one', async () => {
    const productId = productIds[1]!;
    const before = await untilHit(a.running.url, PRODUCTS);
    await untilHit(b.url, PRODUCTS);
    // The catalog is one public entry for anonymous callers and every customer.
    expect((await gql(a.running.url, PRODUCTS, {}, tokens.premium)).extensions?.responseCache?.hit).toBe(true);
    const stock = stockOf(before as never, productId);

    const adjusted = await gql<{ adjustStock: { __typename: string } }>(a.running.url, ADJUST, { input: { productId, delta: 5 } }, tokens.admin);
    expect(adjusted.data?.adjustStock.__typename, JSON.stringify(adjusted)).toBe('AdjustStockSuccess');

    expect(stockOf((await gql(a.running.url, PRODUCTS, {}, tokens.premium)) as never, productId)).toBe(stock + 5);
    await eventually(async () => expect(stockOf((await gql(b.url, PRODUCTS)) as never, productId)).toBe(stock + 5), { what: 'instance B to read the new stock' });
  });

  it('shows the stock an order reserved in the next products read', async () => {
    const productId = productIds[0]!;
    const stock = stockOf((await untilHit(b.url, PRODUCTS)) as never, productId);
    await placeOrder(a.running.url, tokens.premium, productId);
    await eventually(async () => expect(stockOf((await gql(b.url, PRODUCTS)) as never, productId)).toBe(stock - 1), { what: 'instance B to read the reserved stock' });
  });

  it('shows the stock a cancelled order released in the next products read on the other instance', async () => {
    const CANCEL = 'mutation Cancel($input: CancelOrderInput!) { cancelOrder(input: $input) { __typename } }';
    const productId = productIds[1]!;
    const orderId = await placeOrder(a.running.url, tokens.premium, productId);
    // A told its own cache when the order was placed; B caches the reserved stock once its log reader heard of it.
    const reserved = stockOf((await gql(a.running.url, PRODUCTS)) as never, productId);
    await eventually(async () => expect(stockOf((await untilHit(b.url, PRODUCTS)) as never, productId)).toBe(reserved), { what: 'instance B to cache the reserved stock' });
    const cancelled = await gql<{ cancelOrder: { __typename: string } }>(a.running.url, CANCEL, { input: { orderId } }, tokens.premium);
    expect(cancelled.data?.cancelOrder.__typename, JSON.stringify(cancelled)).toBe('CancelOrderSuccess');
    await eventually(async () => expect(stockOf((await gql(b.url, PRODUCTS)) as never, productId)).toBe(reserved + 1), { what: 'instance B to read the released stock' });
  });

  it('forgets a list that records no entity (totalCount only) when an order is added to it', async () => {
    const COUNT = 'query OrderCount { orders { totalCount } }';
    const count = (await untilHit<{ orders: { totalCount: number } }>(a.running.url, COUNT, {}, tokens.premium)).data!.orders.totalCount;
    await placeOrder(a.running.url, tokens.premium);
    expect((await gql<{ orders: { totalCount: number } }>(a.running.url, COUNT, {}, tokens.premium)).data!.orders.totalCount).toBe(count + 1);
  });

  it('answers a hit without one SQL statement', async () => {
    const orderId = await placeOrder(a.running.url, tokens.basic);
    // In process (yoga.fetch), so the whole operation runs in the counter's async context.
    const read = () => counter.measure(() => a.execute(parseQuery(ORDER), { id: orderId }, { token: tokens.basic, via: 'yoga' }));
    const miss = await read();
    expect((miss.result as Answer).extensions?.responseCache?.hit).toBe(false);
    expect(miss.statements).toBeGreaterThan(0);
    const hit = await eventually(async () => {
      const measured = await read();
      expect((measured.result as Answer).extensions?.responseCache?.hit).toBe(true);
      return measured;
    }, { what: 'a cache hit' });
    expect(hit.statements, hit.texts.join('\n')).toBe(0);
  });
});

describe('cached answers holding a payment are invalidated by the payments module’s own writes', () => {
  const PAYMENT = 'query CachedPayment($id: ID!) { order(id: $id) { id status version payment { status attempts providerReference refundedAt } } }';
  type PaymentAnswer = { order: { status: string; version: number; payment: { status: string; attempts: number; providerReference: string; refundedAt: string | null } } };

  /** Posts a provider event to instance A's webhook, signed as the provider does. */
  async function deliver(event: unknown): Promise<Response> {
    const raw = JSON.stringify(event);
    return fetch(a.running.url.replace('/graphql', '/webhooks/payments'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'payment-signature': signWebhook(raw, WEBHOOK_SECRET, Math.floor(Date.now() / 1_000)) },
      body: raw,
    });
  }

  it('shows a refund the provider reports for a shipped order (no order change, no log entry) in the next read on both instances', async () => {
    const orderId = await placeOrder(a.running.url, tokens.basic);
    const shipped = await gql<{ updateOrderStatus: { __typename: string } }>(a.running.url, SHIP, { input: { orderId, status: 'SHIPPED', expectedVersion: 2 } }, tokens.admin);
    expect(shipped.data?.updateOrderStatus.__typename, JSON.stringify(shipped)).toBe('UpdateOrderStatusSuccess');
    // Each instance serves the shipped order with its charge from its cache (B once its log reader heard of the shipment).
    let charged: PaymentAnswer['order'] | undefined;
    for (const url of [a.running.url, b.url]) {
      charged = await eventually(async () => {
        const answer = await gql<PaymentAnswer>(url, PAYMENT, { id: orderId }, tokens.basic);
        expect(answer.data?.order).toMatchObject({ status: 'SHIPPED', version: 3, payment: { status: 'SUCCEEDED', attempts: 1, refundedAt: null } });
        expect(answer.extensions?.responseCache?.hit).toBe(true);
        return answer.data!.order;
      }, { what: `a cached SHIPPED order with its charge on ${url}` });
    }

    const uuid = Buffer.from(orderId, 'base64').toString('utf8').slice('Order:'.length);
    const refunded = await deliver({
      id: `evt_${crypto.randomUUID()}`,
      type: 'charge.refunded',
      data: { object: { id: charged!.payment.providerReference, idempotency_key: `order_${uuid}_charge`, refund: `re_${uuid.slice(0, 8)}` } },
    });
    expect(refunded.status).toBe(200);
    expect(await refunded.json()).toEqual({ received: true, duplicate: false });

    // The order did not move (a SHIPPED order stays shipped), so only the payments module's publish can say so.
    const here = await gql<PaymentAnswer>(a.running.url, PAYMENT, { id: orderId }, tokens.basic);
    expect(here.extensions?.responseCache?.hit).toBe(false);
    expect(here.data?.order).toMatchObject({ status: 'SHIPPED', version: 3, payment: { status: 'REFUNDED', attempts: 1 } });
    expect(here.data?.order.payment.refundedAt).not.toBeNull();
    await eventually(async () => {
      const there = await gql<PaymentAnswer>(b.url, PAYMENT, { id: orderId }, tokens.basic);
      expect(there.data?.order).toMatchObject({ status: 'SHIPPED', version: 3, payment: { status: 'REFUNDED' } });
    }, { what: 'instance B to read the refund' });
  });

  it('caches an admin’s orders page with each order’s payment status', async () => {
    const PAGE = 'query PaymentsPage { orders(first: 5) { edges { node { id payment { status } } } } }';
    const orderId = await placeOrder(a.running.url, tokens.premium);
    // Newest first: the order just placed leads the page.
    const hit = await untilHit<{ orders: { edges: { node: { id: string; payment: { status: string } | null } }[] } }>(a.running.url, PAGE, {}, tokens.admin);
    expect(hit.data!.orders.edges[0]?.node).toEqual({ id: orderId, payment: { status: 'SUCCEEDED' } });
  });
});

/** A query text as the typed document TestApp.execute takes. */
const parseQuery = (query: string) => parse(query) as TypedDocumentNode<Record<string, unknown>, Record<string, unknown>>;
