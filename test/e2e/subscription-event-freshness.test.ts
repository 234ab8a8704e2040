import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaceOrderDocument, ProductsDocument, UpdateOrderStatusDocument } from '../generated/operations.ts';
import { collect, startTestApp, type TestApp } from '../support/app.ts';
import { untilActiveSubscriptions } from '../support/metrics.ts';

// Issue 15: one subscription context serves every event of its stream; each event must still be
// resolved with its own EntityManager fork and DataLoaders, or a field one event read (here a
// line's product, kept in the fork's identity map) serves its old value to the next event.

interface StatusEvent {
  orderStatusChanged: { version: number; to: string; order: { id: string; lines: { product: { id: string; name: string } }[] } };
}
const WATCH = parse(
  'subscription { orderStatusChanged { version to order { id lines { product { id name } } } } }',
) as TypedDocumentNode<StatusEvent, Record<string, never>>;

interface RenameResult {
  updateProduct: { __typename: string; product?: { name: string } };
}
const RENAME = parse(
  'mutation($id: ID!, $name: String!) { updateProduct(input: { productId: $id, name: $name }) { __typename ... on UpdateProductSuccess { product { name } } } }',
) as TypedDocumentNode<RenameResult, { id: string; name: string }>;

let app: TestApp;
let admin: string;
let owner: string;
let productId: string;
let oldName: string;

beforeAll(async () => {
  app = await startTestApp({ env: { RECONCILER_INTERVAL_MS: '3600000' } });
  admin = await app.demoToken('admin');
  owner = await app.demoToken('basic');
  const products = await app.execute(ProductsDocument, { first: 100 }, { token: owner });
  const product = products.data!.products.edges.find((e) => e.node.sku === 'PEN-GEL')!.node;
  productId = product.id;
  oldName = product.name;
});
afterAll(() => app?.stop());

describe('subscription events', () => {
  it('resolve each event with fresh data: a product renamed between two events shows its new name in the second', async () => {
    const stream = collect(app.wsClient(owner), WATCH, {});
    await untilActiveSubscriptions(app.running.url, 1);
    const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } }, { token: owner });
    if (placed.data?.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
    const orderId = placed.data.placeOrder.order.id;
    await stream.waitFor(2); // PENDING, PAID: both read the product as it was

    const newName = `${oldName} (renamed ${crypto.randomUUID().slice(0, 8)})`;
    const renamed = await app.execute(RENAME, { id: productId, name: newName }, { token: admin });
    expect(renamed.data?.updateProduct).toEqual({ __typename: 'UpdateProductSuccess', product: { name: newName } });
    const shipped = await app.execute(UpdateOrderStatusDocument, { input: { orderId, status: 'SHIPPED', expectedVersion: 2 } }, { token: admin });
    expect(shipped.data?.updateOrderStatus.__typename).toBe('UpdateOrderStatusSuccess');
    const events = await stream.waitFor(3);

    expect(stream.errors).toEqual([]);
    const changes = events.map((event) => event.data?.orderStatusChanged);
    expect(changes.map((change) => [change?.version, change?.to])).toEqual([[1, 'PENDING'], [2, 'PAID'], [3, 'SHIPPED']]);
    expect(changes[1]?.order.lines).toEqual([{ product: { id: productId, name: oldName } }]);
    expect(changes[2]?.order.lines).toEqual([{ product: { id: productId, name: newName } }]);
    stream.unsubscribe();
  });
});
