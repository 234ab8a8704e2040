import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelOrderDocument,
  OrderDocument,
  OrderStatusChangedDocument,
  PlaceOrderDocument,
  ProductsDocument,
  UpdateOrderStatusDocument,
} from '../generated/operations.ts';
import { collect, startTestApp, type TestApp } from '../support/app.ts';
import { activeSubscriptions, untilActiveSubscriptions } from '../support/metrics.ts';

let app: TestApp;
let customer: string;
let admin: string;
const productIds = new Map<string, string>();

beforeAll(async () => {
  app = await startTestApp();
  customer = await app.demoToken('premium');
  admin = await app.demoToken('admin');
  const products = await app.execute(ProductsDocument, { first: 100 }, { token: customer });
  for (const edge of products.data!.products.edges) productIds.set(edge.node.sku, edge.node.id);
});
afterAll(() => app?.stop());

const key = () => crypto.randomUUID();

describe('an order from checkout to delivery, end to end over HTTP and graphql-ws', () => {
  it('pushes PENDING → PAID to the owner, then SHIPPED by the admin, and the owner reads SHIPPED', async () => {
    const active = await activeSubscriptions(app.running.url);
    const stream = collect(app.wsClient(customer), OrderStatusChangedDocument, {});
    // Registered server-side (it listens before it counts) before the first publish.
    await untilActiveSubscriptions(app.running.url, active + 1);

    const placed = await app.execute(
      PlaceOrderDocument,
      { input: { idempotencyKey: key(), lines: [{ productId: productIds.get('MUG-CLASSIC')!, quantity: 2 }, { productId: productIds.get('PEN-GEL')!, quantity: 3 }] } },
      { token: customer },
    );
    const result = placed.data!.placeOrder;
    expect(result.__typename).toBe('PlaceOrderSuccess');
    if (result.__typename !== 'PlaceOrderSuccess') return;
    const order = result.order;
    // 2 × 12.50 + 3 × 2.35 = 32.05; PREMIUM 10 % = 3.205 → 3.21 (half-up); total 28.84
    expect(order).toMatchObject({
      status: 'PAID',
      version: 2,
      subtotal: { amount: '32.05', currency: 'USD' },
      discount: { amount: '3.21' },
      total: { amount: '28.84' },
      payment: { status: 'SUCCEEDED', amount: { amount: '28.84' } },
      availableTransitions: ['SHIPPED', 'CANCELLED'],
    });
    expect(order.lines.map((l) => [l.quantity, l.unitPrice.amount, l.lineTotal.amount])).toEqual([
      [2, '12.50', '25.00'],
      [3, '2.35', '7.05'],
    ]);

    const [pending, paid] = await stream.waitFor(2);
    expect(pending!.data!.orderStatusChanged).toMatchObject({ version: 1, from: null, to: 'PENDING' });
    expect(paid!.data!.orderStatusChanged).toMatchObject({ version: 2, from: 'PENDING', to: 'PAID', actor: 'system:payments' });

    const shipped = await app.execute(UpdateOrderStatusDocument, { input: { orderId: order.id, status: 'SHIPPED', expectedVersion: 2 } }, { token: admin });
    expect(shipped.data!.updateOrderStatus).toMatchObject({ __typename: 'UpdateOrderStatusSuccess', order: { status: 'SHIPPED', version: 3 } });

    const [, , third] = await stream.waitFor(3);
    expect(third!.data!.orderStatusChanged).toMatchObject({ version: 3, from: 'PAID', to: 'SHIPPED', order: { status: 'SHIPPED', version: 3 } });
    expect(third!.data!.orderStatusChanged.actor).toMatch(/^admin:/);

    const seen = await app.execute(OrderDocument, { id: order.id }, { token: customer });
    expect(seen.data!.order).toMatchObject({ status: 'SHIPPED', version: 3, availableTransitions: ['DELIVERED'] });
    expect(seen.data!.order!.statusHistory.map((h) => `${h.from ?? '∅'}→${h.to}`)).toEqual(['∅→PENDING', 'PENDING→PAID', 'PAID→SHIPPED']);
    stream.unsubscribe();
  });

  it('turns a declined payment into PAYMENT_FAILED, releases the stock and says PAYMENT_DECLINED', async () => {
    const monitor = productIds.get('MONITOR-27')!;
    const before = await app.execute(ProductsDocument, { first: 1, filter: { search: 'MONITOR-27' } }, { token: customer });
    const stockBefore = before.data!.products.edges[0]!.node.stock;
    // 1 × 1299.00 less 10 % = 1169.10: above the simulated provider's 1000.00 decline threshold.
    const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: key(), lines: [{ productId: monitor, quantity: 1 }] } }, { token: customer });
    const result = placed.data!.placeOrder;
    expect(result).toMatchObject({ __typename: 'PaymentDeclinedError', code: 'PAYMENT_DECLINED', declineCode: 'insufficient_funds' });
    if (result.__typename !== 'PaymentDeclinedError') return;
    expect(result.order).toMatchObject({ status: 'PAYMENT_FAILED', version: 2 });
    const after = await app.execute(ProductsDocument, { first: 1, filter: { search: 'MONITOR-27' } }, { token: customer });
    expect(after.data!.products.edges[0]!.node.stock).toBe(stockBefore);
    const order = await app.execute(OrderDocument, { id: result.order.id }, { token: customer });
    expect(order.data!.order).toMatchObject({ status: 'PAYMENT_FAILED', payment: { status: 'DECLINED' }, availableTransitions: [] });
  });

  it('answers a replayed idempotency key with the first order, and the same key with other lines with IDEMPOTENCY_KEY_REUSED', async () => {
    const idempotencyKey = key();
    const lines = [{ productId: productIds.get('NOTE-A5')!, quantity: 1 }];
    const first = await app.execute(PlaceOrderDocument, { input: { idempotencyKey, lines } }, { token: customer });
    const again = await app.execute(PlaceOrderDocument, { input: { idempotencyKey, lines } }, { token: customer });
    expect(first.data!.placeOrder.__typename).toBe('PlaceOrderSuccess');
    expect(again.data!.placeOrder).toEqual(first.data!.placeOrder);
    const reused = await app.execute(PlaceOrderDocument, { input: { idempotencyKey, lines: [{ ...lines[0]!, quantity: 2 }] } }, { token: customer });
    expect(reused.data!.placeOrder).toMatchObject({ __typename: 'IdempotencyKeyReusedError', code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('resumes with afterVersion after a disconnect: replays the missed changes in order, then goes live', async () => {
    const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: key(), lines: [{ productId: productIds.get('CAP-NAVY')!, quantity: 1 }] } }, { token: customer });
    if (placed.data!.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
    const orderId = placed.data!.placeOrder.order.id;
    const versions = (events: readonly { data?: { orderStatusChanged: { version: number } } | null }[]) => events.map((e) => e.data!.orderStatusChanged.version);

    // Watching from version 1: PAID (v2) is replayed, so the stream is live from here; the client then drops.
    const firstClient = app.wsClient(customer);
    const first = collect(firstClient, OrderStatusChangedDocument, { orderId, afterVersion: 1 });
    const [paid] = await first.waitFor(1);
    expect(paid!.data!.orderStatusChanged).toMatchObject({ version: 2, to: 'PAID' });
    await firstClient.dispose();

    // While disconnected the order ships.
    await app.execute(UpdateOrderStatusDocument, { input: { orderId, status: 'SHIPPED', expectedVersion: 2 } }, { token: admin });

    // Resume after the last version seen (v3 replayed), and a full replay from 0 (v1–v3 replayed);
    // both then go live and get the delivery (v4). Whatever either sent twice or out of order
    // would come before v4, which the server sends after the replay.
    const resumed = collect(app.wsClient(customer), OrderStatusChangedDocument, { orderId, afterVersion: 2 });
    const full = collect(app.wsClient(customer), OrderStatusChangedDocument, { orderId, afterVersion: 0 });
    const [shipped] = await resumed.waitFor(1);
    expect(shipped!.data!.orderStatusChanged).toMatchObject({ version: 3, from: 'PAID', to: 'SHIPPED' });
    expect(versions(await full.waitFor(3))).toEqual([1, 2, 3]);
    await app.execute(UpdateOrderStatusDocument, { input: { orderId, status: 'DELIVERED', expectedVersion: 3 } }, { token: admin });
    const [, delivered] = await resumed.waitFor(2);
    await full.waitFor(4);
    expect(delivered!.data!.orderStatusChanged).toMatchObject({ version: 4, from: 'SHIPPED', to: 'DELIVERED' });
    expect(versions(resumed.events)).toEqual([3, 4]);
    expect(versions(full.events)).toEqual([1, 2, 3, 4]);
  });

  it('cancels a paid order for its owner with a refund, and refuses to ship it afterwards', async () => {
    const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: key(), lines: [{ productId: productIds.get('SOCK-3PK')!, quantity: 2 }] } }, { token: customer });
    if (placed.data!.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
    const orderId = placed.data!.placeOrder.order.id;
    const cancelled = await app.execute(CancelOrderDocument, { input: { orderId, reason: 'changed my mind' } }, { token: customer });
    expect(cancelled.data!.cancelOrder).toMatchObject({ __typename: 'CancelOrderSuccess', order: { status: 'CANCELLED', version: 3, payment: { status: 'REFUNDED' } } });
    const ship = await app.execute(UpdateOrderStatusDocument, { input: { orderId, status: 'SHIPPED', expectedVersion: 3 } }, { token: admin });
    expect(ship.data!.updateOrderStatus).toMatchObject({ __typename: 'IllegalTransitionError', code: 'ILLEGAL_TRANSITION' });
    const stale = await app.execute(UpdateOrderStatusDocument, { input: { orderId, status: 'SHIPPED', expectedVersion: 2 } }, { token: admin });
    expect(stale.data!.updateOrderStatus).toMatchObject({ __typename: 'VersionConflictError', code: 'VERSION_CONFLICT', expectedVersion: 2, actualVersion: 3 });
  });
});
