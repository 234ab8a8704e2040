import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { CreateProductDocument, OrderDocument, OrderStatusChangedDocument, PlaceOrderDocument, ProductDocument, UpdateOrderStatusDocument } from '../generated/operations.ts';
import { collect, startTestApp, type TestApp } from '../support/app.ts';
import { signWebhook } from '../../src/modules/payments/module.ts';
import { startFakeProvider, type FakeProvider } from './fake-provider.ts';

const SECRET = 'sk_test_webhooks';
const WEBHOOK_SECRET = 'whsec_test_0123456789abcdef';

let provider: FakeProvider;
let app: TestApp;
let customer: string;
let productId: string;

beforeAll(async () => {
  provider = await startFakeProvider({ secretKey: SECRET });
  app = await startTestApp({
    env: {
      PAYMENT_PROVIDER: 'http',
      PAYMENT_PROVIDER_URL: provider.url,
      PAYMENT_PROVIDER_SECRET_KEY: SECRET,
      PAYMENT_TIMEOUT_MS: '100',
      PAYMENT_MAX_ATTEMPTS: '1',
      PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
      // The reconciler stays out of the way: only webhooks settle these orders.
      RECONCILER_GRACE_MS: '600000',
    },
  });
  customer = await app.demoToken('basic');
  const created = await app.execute(
    CreateProductDocument,
    { input: { sku: 'HOOK-ITEM', name: 'Webhook item', price: '12.00', stock: 50 } },
    { token: await app.demoToken('admin') },
  );
  if (created.data?.createProduct.__typename !== 'CreateProductSuccess') throw new Error(JSON.stringify(created));
  productId = created.data.createProduct.product.id;
});
afterAll(async () => {
  await app?.stop();
  await provider?.stop();
});

/** An order whose charge times out, so its payment outcome is unknown (PENDING). */
async function pendingOrder(): Promise<{ id: string; orderId: string }> {
  provider.chooseFault = (kind) => (kind === 'charge' ? 'timeout' : undefined);
  const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 2 }] } }, { token: customer });
  provider.chooseFault = () => undefined;
  if (placed.data?.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
  expect(placed.data.placeOrder.order.status).toBe('PENDING');
  const id = placed.data.placeOrder.order.id;
  return { id, orderId: Buffer.from(id, 'base64').toString('utf8').slice('Order:'.length) };
}

function event(type: string, orderId: string, extra: Record<string, unknown> = {}, id = `evt_${crypto.randomUUID()}`) {
  return { id, type, data: { object: { id: `ch_hook_${orderId.slice(0, 8)}`, idempotency_key: `order_${orderId}_charge`, ...extra } } };
}

async function deliver(body: unknown, options: { secret?: string; timestamp?: number; raw?: string } = {}): Promise<Response> {
  const raw = options.raw ?? JSON.stringify(body);
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1_000);
  return fetch(app.running.url.replace('/graphql', '/webhooks/payments'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'payment-signature': signWebhook(raw, options.secret ?? WEBHOOK_SECRET, timestamp) },
    body: raw,
  });
}

const orderState = async (id: string) => (await app.execute(OrderDocument, { id }, { token: customer })).data!.order!;

/** Reads the product until its stock is `expected` (bounded); fails if it ever shows more. */
async function untilStock(expected: number): Promise<void> {
  await eventually(async () => {
    const stock = (await app.execute(ProductDocument, { id: productId }, {})).data!.product!.stock;
    expect(stock).toBeLessThanOrEqual(expected);
    return stock === expected;
  }, { what: `the product's stock to read ${expected}` });
}

describe('POST /webhooks/payments', () => {
  it('a valid charge.succeeded settles a PENDING order once, pushes PAID to subscribers, and its replay changes nothing', async () => {
    const { id, orderId } = await pendingOrder();
    // Replaying from version 0 yields PENDING (v1) first: the subscription is live from then on.
    const stream = collect(app.wsClient(customer), OrderStatusChangedDocument, { orderId: id, afterVersion: 0 });
    const [pending] = await stream.waitFor(1);
    expect(pending!.data!.orderStatusChanged).toMatchObject({ version: 1, to: 'PENDING' });
    const succeeded = event('charge.succeeded', orderId);
    const first = await deliver(succeeded);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: true, duplicate: false });
    const [, paid] = await stream.waitFor(2);
    expect(paid!.data!.orderStatusChanged).toMatchObject({ version: 2, from: 'PENDING', to: 'PAID' });
    expect(await orderState(id)).toMatchObject({ status: 'PAID', version: 2, payment: { status: 'SUCCEEDED' } });

    const replay = await deliver(succeeded);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ received: true, duplicate: true });
    expect(await orderState(id)).toMatchObject({ status: 'PAID', version: 2 });
    // A later change of the order is pushed after anything the replay might have pushed.
    const shipped = await app.execute(UpdateOrderStatusDocument, { input: { orderId: id, status: 'SHIPPED', expectedVersion: 2 } }, { token: await app.demoToken('admin') });
    expect(shipped.data?.updateOrderStatus.__typename).toBe('UpdateOrderStatusSuccess');
    await stream.waitFor(3);
    expect(stream.events.map((e) => e.data!.orderStatusChanged.to)).toEqual(['PENDING', 'PAID', 'SHIPPED']);
  });

  it('refuses forged, stale and malformed deliveries with 400 and changes nothing', async () => {
    const { id, orderId } = await pendingOrder();
    const forged = await deliver(event('charge.succeeded', orderId), { secret: 'whsec_not_the_right_secret' });
    const stale = await deliver(event('charge.succeeded', orderId), { timestamp: Math.floor(Date.now() / 1_000) - 10 * 60 });
    const future = await deliver(event('charge.succeeded', orderId), { timestamp: Math.floor(Date.now() / 1_000) + 10 * 60 });
    const malformed = await deliver(undefined, { raw: '{"id":"evt_1","type":"charge.exploded"}' });
    const notJson = await deliver(undefined, { raw: 'not json at all' });
    const unsigned = await fetch(app.running.url.replace('/graphql', '/webhooks/payments'), { method: 'POST', body: JSON.stringify(event('charge.succeeded', orderId)) });
    for (const response of [forged, stale, future, malformed, notJson, unsigned]) expect(response.status).toBe(400);
    const tampered = event('charge.succeeded', orderId);
    const raw = JSON.stringify(tampered);
    const signature = signWebhook(raw, WEBHOOK_SECRET, Math.floor(Date.now() / 1_000));
    const swapped = await fetch(app.running.url.replace('/graphql', '/webhooks/payments'), {
      method: 'POST',
      headers: { 'payment-signature': signature },
      body: raw.replace('charge.succeeded', 'charge.refunded'),
    });
    expect(swapped.status).toBe(400);
    expect(await orderState(id)).toMatchObject({ status: 'PENDING', version: 1, payment: { status: 'PENDING' } });
    const get = await fetch(app.running.url.replace('/graphql', '/webhooks/payments'));
    expect(get.status).toBe(405);
  });

  it('applies reordered events along the payment status machine, each exactly once', async () => {
    const { id, orderId } = await pendingOrder();
    const before = (await app.execute(ProductDocument, { id: productId }, {})).data!.product!.stock;
    // The refund arrives before the success it follows.
    expect((await deliver(event('charge.refunded', orderId, { refund: 're_hook_1' }))).status).toBe(200);
    const afterRefund = await orderState(id);
    expect(afterRefund).toMatchObject({ status: 'PAYMENT_FAILED', version: 2, payment: { status: 'REFUNDED' } });
    expect((await deliver(event('charge.succeeded', orderId))).status).toBe(200);
    expect(await orderState(id)).toMatchObject({ status: 'PAYMENT_FAILED', version: 2, payment: { status: 'REFUNDED' } });
    // Its two units are back on the shelf, once: a cached product read shows it once this instance's
    // order log reader has read the change (ADR 0015; a provider's event has no client to read its write).
    await untilStock(before + 2);
  });

  it('a charge.failed fails a PENDING order with its stock released', async () => {
    const { id, orderId } = await pendingOrder();
    const before = (await app.execute(ProductDocument, { id: productId }, {})).data!.product!.stock;
    const response = await deliver(event('charge.failed', orderId, { failure_code: 'card_declined', failure_message: 'Declined by the bank' }));
    expect(response.status).toBe(200);
    expect(await orderState(id)).toMatchObject({ status: 'PAYMENT_FAILED', payment: { status: 'DECLINED' } });
    await untilStock(before + 2);
  });

  it('ignores an event for a charge that is not ours, and answers 200 so the provider stops sending it', async () => {
    const response = await deliver({ id: 'evt_foreign', type: 'charge.succeeded', data: { object: { id: 'ch_x', idempotency_key: 'someone-elses-key' } } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, duplicate: true });
  });
});
