import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelOrderDocument, PlaceOrderDocument, ProductsDocument, UpdateOrderStatusDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

// cancelOrder and updateOrderStatus with an idempotency key (ADR 0013, orders), each call a
// request of its own over HTTP, on PostgreSQL.
let app: TestApp;
let customer: string;
let admin: string;
let db: pg.Client;
let mugId: string;

beforeAll(async () => {
  app = await startTestApp();
  customer = await app.demoToken('premium');
  admin = await app.demoToken('admin');
  const products = await app.execute(ProductsDocument, { first: 100 }, { token: customer });
  mugId = products.data!.products.edges.find((e) => e.node.sku === 'MUG-CLASSIC')!.node.id;
  db = new pg.Client({ connectionString: app.db.url });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await app?.stop();
});

/** A PAID order of one mug (global id, and its uuid for SQL). */
async function paidOrder(): Promise<{ id: string; uuid: string }> {
  const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId: mugId, quantity: 1 }] } }, { token: customer });
  const result = placed.data!.placeOrder;
  if (result.__typename !== 'PlaceOrderSuccess' || result.order.status !== 'PAID') throw new Error(JSON.stringify(placed));
  const [row] = (await db.query<{ id: string }>('select id from orders where number = $1', [result.order.number])).rows;
  return { id: result.order.id, uuid: row!.id };
}

const count = async (query: string, params: unknown[]) => Number((await db.query<{ n: string }>(query, params)).rows[0]!.n);
const historyTo = (uuid: string, to: string) => count('select count(*) as n from order_status_history where order_id = $1 and to_status = $2', [uuid, to]);
const outboxTo = (uuid: string, to: string) => count(`select count(*) as n from outbox where aggregate_id = $1 and payload->>'to' = $2`, [uuid, to]);
const mugStock = async () => count('select stock as n from catalog_products where sku = $1', ['MUG-CLASSIC']);

describe('updateOrderStatus with an idempotency key over HTTP', () => {
  it('ships once for 20 racing requests with one key (one history entry, one outbox row), and all 20 get the same answer', async () => {
    const order = await paidOrder();
    const input = { orderId: order.id, status: 'SHIPPED' as const, expectedVersion: 2, idempotencyKey: crypto.randomUUID() };
    const answers = await Promise.all(Array.from({ length: 20 }, () => app.execute(UpdateOrderStatusDocument, { input }, { token: admin })));
    expect(answers.map((a) => a.data?.updateOrderStatus)).toEqual(
      Array(20).fill({ __typename: 'UpdateOrderStatusSuccess', order: { id: order.id, status: 'SHIPPED', version: 3 } }),
    );
    expect(await historyTo(order.uuid, 'SHIPPED')).toBe(1);
    expect(await outboxTo(order.uuid, 'SHIPPED')).toBe(1);
  });

  it('answers the same key with other input with IdempotencyKeyReusedError, and moves nothing', async () => {
    const order = await paidOrder();
    const idempotencyKey = crypto.randomUUID();
    await app.execute(UpdateOrderStatusDocument, { input: { orderId: order.id, status: 'SHIPPED', expectedVersion: 2, idempotencyKey } }, { token: admin });
    const reused = await app.execute(UpdateOrderStatusDocument, { input: { orderId: order.id, status: 'DELIVERED', expectedVersion: 3, idempotencyKey } }, { token: admin });
    expect(reused.errors).toBeUndefined();
    expect(reused.data!.updateOrderStatus).toMatchObject({ __typename: 'IdempotencyKeyReusedError', code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await historyTo(order.uuid, 'DELIVERED')).toBe(0);
  });

  it('without a key, a repeat is refused as before (VERSION_CONFLICT)', async () => {
    const order = await paidOrder();
    const input = { orderId: order.id, status: 'SHIPPED' as const, expectedVersion: 2 };
    const first = await app.execute(UpdateOrderStatusDocument, { input }, { token: admin });
    expect(first.data!.updateOrderStatus.__typename).toBe('UpdateOrderStatusSuccess');
    const again = await app.execute(UpdateOrderStatusDocument, { input }, { token: admin });
    expect(again.data!.updateOrderStatus).toMatchObject({ __typename: 'VersionConflictError', expectedVersion: 2, actualVersion: 3 });
  });
});

describe('cancelOrder with an idempotency key over HTTP', () => {
  it('cancels once for 20 racing requests with one key: one refund, the stock back once, 20 identical answers', async () => {
    const order = await paidOrder();
    const stockBefore = await mugStock();
    const input = { orderId: order.id, idempotencyKey: crypto.randomUUID() };
    const answers = await Promise.all(Array.from({ length: 20 }, () => app.execute(CancelOrderDocument, { input }, { token: customer })));
    // The order is the stored answer; its payment is a field read now (refunded or not yet).
    const orders = answers.map((a) => {
      const answer = a.data?.cancelOrder;
      return answer?.__typename === 'CancelOrderSuccess' ? { id: answer.order.id, status: answer.order.status, version: answer.order.version } : answer;
    });
    expect(orders).toEqual(Array(20).fill({ id: order.id, status: 'CANCELLED', version: 3 }));
    expect(await historyTo(order.uuid, 'CANCELLED')).toBe(1);
    expect(await mugStock()).toBe(stockBefore + 1);
    expect(await count('select count(*) as n from payments where order_id = $1 and status = $2', [order.uuid, 'REFUNDED'])).toBe(1);
  });

  it('answers the same key with another reason with IdempotencyKeyReusedError', async () => {
    const order = await paidOrder();
    const idempotencyKey = crypto.randomUUID();
    await app.execute(CancelOrderDocument, { input: { orderId: order.id, reason: 'first', idempotencyKey } }, { token: customer });
    const reused = await app.execute(CancelOrderDocument, { input: { orderId: order.id, reason: 'second', idempotencyKey } }, { token: customer });
    expect(reused.data!.cancelOrder).toMatchObject({ __typename: 'IdempotencyKeyReusedError', code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('without a key, a second cancel is ILLEGAL_TRANSITION as before', async () => {
    const order = await paidOrder();
    await app.execute(CancelOrderDocument, { input: { orderId: order.id } }, { token: customer });
    const again = await app.execute(CancelOrderDocument, { input: { orderId: order.id } }, { token: customer });
    expect(again.data!.cancelOrder).toMatchObject({ __typename: 'IllegalTransitionError', code: 'ILLEGAL_TRANSITION' });
  });
});
