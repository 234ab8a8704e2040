import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateProductDocument, OrdersPageDocument, PlaceOrderDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { createStatementCounter } from '../support/statement-counter.ts';

let app: TestApp;
const counter = createStatementCounter();

beforeAll(async () => {
  counter.install();
  // The statements of executions, not of cache hits: the same page is read more than once.
  app = await startTestApp({ env: { ORDER_LOG_POLL_MS: '60000', RECONCILER_INTERVAL_MS: '3600000', RESPONSE_CACHE: 'false' } });
  const tokens = await Promise.all((['basic', 'premium', 'enterprise'] as const).map((who) => app.demoToken(who)));
  const admin = await app.demoToken('admin');
  const productIds: string[] = [];
  for (let i = 0; i < 8; i += 1) {
    const created = await app.execute(CreateProductDocument, { input: { sku: `NPLUS1-${i}`, name: `Batch item ${i}`, price: '5.00', stock: 1000 } }, { token: admin });
    if (created.data?.createProduct.__typename !== 'CreateProductSuccess') throw new Error(JSON.stringify(created));
    productIds.push(created.data.createProduct.product.id);
  }
  // 60 orders of 3 lines each across three customers: enough for a full page of 50.
  for (let i = 0; i < 60; i += 1) {
    const lines = [0, 1, 2].map((k) => ({ productId: productIds[(i + k) % productIds.length]!, quantity: 1 }));
    const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: `n1-${i}`, lines } }, { token: tokens[i % 3]! });
    if (placed.data?.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
  }
});
afterAll(async () => {
  counter.restore();
  await app?.stop();
});

async function countStatements(first: number): Promise<{ count: number; edges: number }> {
  const admin = await app.demoToken('admin');
  // In process (yoga.fetch), so the whole operation runs in the counter's async context.
  const { result, statements: count } = await counter.measure(() => app.execute(OrdersPageDocument, { first }, { token: admin, via: 'yoga' }));
  expect(result.errors).toBeUndefined();
  for (const edge of result.data!.orders.edges) {
    expect(edge.node.customer.email).toMatch(/@ordergraph\.dev$/);
    expect(edge.node.lines).toHaveLength(3);
    expect(edge.node.payment?.status).toBe('SUCCEEDED');
  }
  return { count, edges: result.data!.orders.edges.length };
}

describe('orders(first: N) { customer lines { product } payment }', () => {
  it('runs at most 5 SQL statements, the same number for 50 orders as for 5 (no N+1)', async () => {
    const big = await countStatements(50);
    const small = await countStatements(5);
    expect(big.edges).toBe(50);
    expect(small.edges).toBe(5);
    expect(big.count).toBeLessThanOrEqual(5);
    expect(big.count).toBe(small.count);
    expect(big.count).toBeGreaterThanOrEqual(4);
    console.info(`SQL statements per orders page: first 50 → ${big.count}, first 5 → ${small.count}`);
  });
});

interface CountedPage {
  orders: { totalCount: number; edges: { node: { customer: { email: string }; lines: { product: { name: string } }[]; payment: { status: string } | null } }[] };
}
const CountedPageDocument = parse(
  'query CountedPage($first: Int) { orders(first: $first) { totalCount edges { node { customer { email } lines { product { name } } payment { status } } } } }',
) as TypedDocumentNode<CountedPage, { first: number }>;

describe('orders(first: N) { totalCount edges { node { customer lines { product } payment } } }', () => {
  it('counts in the page statement: no more statements than the same page without totalCount', async () => {
    const admin = await app.demoToken('admin');
    const without = await countStatements(50);
    const { result, statements } = await counter.measure(() => app.execute(CountedPageDocument, { first: 50 }, { token: admin, via: 'yoga' }));
    expect(result.errors).toBeUndefined();
    expect(result.data!.orders.edges).toHaveLength(50);
    expect(result.data!.orders.totalCount).toBe(60);
    expect(statements).toBe(without.count);
    expect(statements).toBeLessThanOrEqual(5);
    console.info(`SQL statements per orders page with totalCount: ${statements} (without: ${without.count})`);
  });
});
