import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateProductDocument, PlaceOrderDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { createStatementCounter } from '../support/statement-counter.ts';

// `statusHistory { order }` used to read each change's order on its own (one statement per change);
// it now goes through the Order node's DataLoader. Counted at the driver, as sql-statements.test.ts does.

interface HistoryPage {
  orders: { edges: { node: { id: string; statusHistory: { version: number; order: { id: string } }[] } }[] };
}
const HistoryPageDocument = parse(
  'query HistoryPage($first: Int!) { orders(first: $first) { edges { node { id statusHistory { version order { id } } } } } }',
) as TypedDocumentNode<HistoryPage, { first: number }>;

let app: TestApp;
const counter = createStatementCounter();

beforeAll(async () => {
  counter.install();
  app = await startTestApp({ env: { ORDER_LOG_POLL_MS: '60000', RECONCILER_INTERVAL_MS: '3600000' } });
  const admin = await app.demoToken('admin');
  const customer = await app.demoToken('basic');
  const created = await app.execute(CreateProductDocument, { input: { sku: 'HISTORY-1', name: 'History item', price: '5.00', stock: 1000 } }, { token: admin });
  if (created.data?.createProduct.__typename !== 'CreateProductSuccess') throw new Error(JSON.stringify(created));
  const productId = created.data.createProduct.product.id;
  // 12 paid orders: two changes each (PENDING, then PAID).
  for (let i = 0; i < 12; i += 1) {
    const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: `history-${i}`, lines: [{ productId, quantity: 1 }] } }, { token: customer });
    if (placed.data?.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
  }
});
afterAll(async () => {
  counter.restore();
  await app?.stop();
});

async function countStatements(first: number): Promise<{ count: number; changes: number }> {
  const admin = await app.demoToken('admin');
  const { result, statements } = await counter.measure(() => app.execute(HistoryPageDocument, { first }, { token: admin, via: 'yoga' }));
  expect(result.errors).toBeUndefined();
  const nodes = result.data!.orders.edges.map((edge) => edge.node);
  for (const node of nodes) {
    expect(node.statusHistory.map((change) => change.version)).toEqual([1, 2]);
    for (const change of node.statusHistory) expect(change.order.id).toBe(node.id);
  }
  return { count: statements, changes: nodes.flatMap((node) => node.statusHistory).length };
}

describe('orders(first: N) { statusHistory { order } }', () => {
  it('reads the orders of all changes in one statement: the same count for 24 changes as for 2', async () => {
    const big = await countStatements(12);
    const small = await countStatements(1);
    expect(big.changes).toBe(24);
    expect(small.changes).toBe(2);
    expect(big.count).toBe(small.count);
    expect(big.count).toBeLessThanOrEqual(4);
    console.info(`SQL statements per orders page with statusHistory { order }: 24 changes → ${big.count}, 2 changes → ${small.count}`);
  });
});
