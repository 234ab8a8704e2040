import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaceOrderDocument, ProductsDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { activeSubscriptions, untilActiveSubscriptions } from '../support/metrics.ts';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.stop());

describe('the HTTP surface on /graphql', () => {
  it('serves GraphiQL to a browser', async () => {
    const response = await fetch(app.running.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('Ordergraph');
    // Served from node_modules, so it works without internet access.
    expect(html).not.toContain('unpkg.com');
  });

  it('streams subscriptions over SSE as well as graphql-ws', async () => {
    const token = await app.demoToken('enterprise');
    const active = await activeSubscriptions(app.running.url);
    const controller = new AbortController();
    const response = await fetch(app.running.url, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'subscription { orderStatusChanged { version to order { status } } }' }),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    await untilActiveSubscriptions(app.running.url, active + 1);
    const products = await app.execute(ProductsDocument, { first: 1, filter: { search: 'PLANT-MINI' } }, {});
    const placed = await app.execute(
      PlaceOrderDocument,
      { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId: products.data!.products.edges[0]!.node.id, quantity: 1 }] } },
      { token },
    );
    expect(placed.data!.placeOrder.__typename).toBe('PlaceOrderSuccess');
    let text = '';
    const decoder = new TextDecoder();
    while (!(text.includes('"to":"PAID"'))) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    expect(text).toContain('"to":"PENDING"');
    expect(text).toContain('"to":"PAID"');
  });

  it('answers malformed input with a spec-shaped error and no stack trace', async () => {
    const response = await fetch(app.running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ products(first: 1000) { totalCount } }' }),
    });
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string; fields?: unknown } }[] };
    expect(body.errors[0]!.extensions.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(body)).not.toMatch(/at .+\.ts:\d+/);
  });

  it('rejects a bad cursor as VALIDATION_FAILED rather than a database error', async () => {
    for (const after of ['garbage', Buffer.from(JSON.stringify(['x', 'not-a-uuid', 3])).toString('base64url'), Buffer.from('["a","b"]').toString('base64url')]) {
      const result = await app.execute(ProductsDocument, { first: 2, after }, {});
      expect(result.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    }
  });

  it('pages products forwards and backwards with consistent cursors', async () => {
    const firstPage = await app.execute(ProductsDocument, { first: 5 }, {});
    const page = firstPage.data!.products;
    expect(page.totalCount).toBe(20);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const second = await app.execute(ProductsDocument, { first: 5, after: page.pageInfo.endCursor }, {});
    const back = await app.execute(ProductsDocument, { last: 5, before: second.data!.products.pageInfo.startCursor }, {});
    expect(back.data!.products.edges.map((e) => e.node.sku)).toEqual(page.edges.map((e) => e.node.sku));
    const names = [...page.edges, ...second.data!.products.edges].map((e) => e.node.name);
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
});
