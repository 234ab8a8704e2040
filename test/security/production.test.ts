import { exportPKCS8, generateKeyPair } from 'jose';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { LEAKS, postGraphQL, problemsOf, send } from './support.ts';

/** `extensions.cost` of an anonymous client's operation at the default budget (COST_BUDGET_ANONYMOUS). */
const ANONYMOUS_COST = { requested: expect.any(Number), remaining: expect.any(Number), budget: 10_000, resetAfterSeconds: expect.any(Number) };

/** NODE_ENV=production: introspection, GraphiQL, suggestions and limit details off; errors masked. */

let app: TestApp;
let url: string;

async function productionEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { NODE_ENV: 'production', SEED_DEMO_DATA: 'false', JWT_PRIVATE_KEY: await exportPKCS8(privateKey), ...extra };
}

beforeAll(async () => {
  app = await startTestApp({ env: await productionEnv() });
  url = app.running.url;
});
afterAll(() => app?.stop());

const errorsOf = (text: string) => (JSON.parse(text) as { errors?: { message: string; extensions?: Record<string, unknown> }[] }).errors ?? [];

describe('in production', () => {
  it('refuses introspection over HTTP and graphql-ws', async () => {
    for (const query of ['{ __schema { types { name } } }', '{ __type(name: "Order") { fields { name } } }']) {
      const reply = await postGraphQL(url, { query });
      expect(errorsOf(reply.text)[0]!.message).toMatch(/introspection/i);
      expect(JSON.parse(reply.text).data ?? null).toBeNull();
    }
    const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    const result = await new Promise<unknown>((resolve) => {
      client.subscribe({ query: '{ __schema { queryType { name } } }' }, { next: () => resolve('data'), error: resolve, complete: () => resolve('complete') });
    });
    await client.dispose();
    expect(JSON.stringify(result)).toMatch(/introspection/i);
  });

  it('serves no GraphiQL', async () => {
    const reply = await send(url, { headers: { accept: 'text/html' } });
    expect(reply.text).not.toContain('<html');
  });

  it('hides field suggestions, in validation and in variables', async () => {
    // Each with the name graphql-js would suggest.
    const queries: [object, string][] = [
      [{ query: '{ prodcts { totalCount } }' }, 'products'],
      [{ query: '{ products(frist: 1) { totalCount } }' }, 'first'],
      [{ query: 'query($s: [OrderStatus!]) { orders(filter: { status: $s }) { totalCount } }', variables: { s: ['PAIDD'] } }, 'PAID'],
      [{ query: 'query($f: ProductFilter) { products(filter: $f) { totalCount } }', variables: { f: { serch: 'mug' } } }, 'search'],
    ];
    for (const [body, suggestion] of queries) {
      const reply = await postGraphQL(url, body);
      expect(problemsOf(reply, { expectErrors: true })).toEqual([]);
      expect(reply.text).not.toContain(`\\"${suggestion}\\"`);
      expect(errorsOf(reply.text)[0]!.extensions!['code']).toMatch(/GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT/);
    }
  });

  it('does not reveal the limits', async () => {
    const reply = await postGraphQL(url, { query: `{ orders { edges { node { customer { orders { edges { node { id } } } } } } } }` });
    const [error] = errorsOf(reply.text);
    expect(error).toEqual({ message: 'The operation is too large or too complex.', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    const tokens = await postGraphQL(url, { query: `{ me { ${'id '.repeat(600)}} }` });
    expect(errorsOf(tokens.text)[0]!.message).toBe('The operation is too large or too complex.');
  });

  it('masks an unexpected failure: a code and the request id, never SQL or a stack', async () => {
    const orm = await app.db.openOrm();
    await orm.em.getConnection().execute('alter table "catalog_products" rename to "catalog_products_hidden"');
    try {
      const reply = await postGraphQL(url, { query: '{ products(first: 1) { totalCount } }' }, { 'x-request-id': 'support-ticket-42' });
      const [error] = errorsOf(reply.text);
      expect(error!.message).toBe('Unexpected error.');
      expect(error!.extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', requestId: 'support-ticket-42' });
      for (const [name, pattern] of LEAKS) expect(pattern.test(reply.text), name).toBe(false);
      expect(reply.text).not.toContain('catalog_products');
    } finally {
      await orm.em.getConnection().execute('alter table "catalog_products_hidden" rename to "catalog_products"');
    }
  });

  it('still serves the API', async () => {
    const reply = await postGraphQL(url, { query: '{ products(first: 1) { totalCount } }' });
    // Rate limits are on in production: an anonymous client's cost budget (docs/adr/0014) comes along.
    expect(JSON.parse(reply.text)).toEqual({ data: { products: { totalCount: 0 } }, extensions: expect.objectContaining({ cost: ANONYMOUS_COST }) });
  });
});

describe('in production with INTROSPECTION=true', () => {
  it('answers introspection (e.g. for a schema registry), still without suggestions', async () => {
    const open = await startTestApp({ env: await productionEnv({ INTROSPECTION: 'true' }) });
    try {
      const reply = await postGraphQL(open.running.url, { query: '{ __type(name: "Order") { name } }' });
      expect(JSON.parse(reply.text)).toEqual({ data: { __type: { name: 'Order' } }, extensions: expect.objectContaining({ cost: ANONYMOUS_COST }) });
      const typo = await postGraphQL(open.running.url, { query: '{ prodcts { totalCount } }' });
      expect(typo.text).not.toMatch(/Did you mean/);
    } finally {
      await open.stop();
    }
  });
});
