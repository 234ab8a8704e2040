import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { postGraphQL, problemsOf, send } from './support.ts';

let app: TestApp;
let url: string;

beforeAll(async () => {
  app = await startTestApp();
  url = app.running.url;
});
afterAll(() => app?.stop());

const QUERY = '{ products(first: 1) { totalCount } }';
const MUTATION = 'mutation { signIn(input: { email: "basic@ordergraph.dev", password: "demo-pass-basic" }) { __typename } }';
/** A POST written chunk by chunk with exactly these headers (fetch would add Content-Length). */
function rawPost(url: string, headers: Record<string, string>, chunks: string[]): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: 'POST', headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    // The server may answer (400, 413) and close before the whole body is written.
    outgoing.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    for (const chunk of chunks) outgoing.write(chunk);
    outgoing.end();
  });
}
const errorsOf = (text: string) => (JSON.parse(text) as { errors?: { message: string; extensions?: Record<string, unknown> }[] }).errors ?? [];

describe('CSRF prevention', () => {
  it.each([
    ['text/plain', QUERY],
    ['application/x-www-form-urlencoded', `query=${encodeURIComponent(QUERY)}`],
    ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: MUTATION })}\r\n--x--\r\n`],
  ])('refuses a %s POST without a preflight header (as a cross-site form would send it) with 403 and CSRF_HEADER_REQUIRED', async (contentType, body) => {
    const reply = await send(url, { method: 'POST', headers: { 'content-type': contentType }, body });
    expect(reply.status).toBe(403);
    expect(problemsOf(reply, { expectErrors: true })).toEqual([]);
    expect(errorsOf(reply.text)[0]!.message).toMatch(/CSRF/);
    expect(errorsOf(reply.text)[0]!.extensions!['code']).toBe('CSRF_HEADER_REQUIRED');
  });

  it('refuses a GET query without a preflight header (403, CSRF_HEADER_REQUIRED), and runs it with one', async () => {
    const address = `${url}?query=${encodeURIComponent(QUERY)}`;
    const refused = await send(address, {});
    expect(refused.status).toBe(403);
    expect(errorsOf(refused.text)[0]!.extensions!['code']).toBe('CSRF_HEADER_REQUIRED');
    for (const header of ['x-graphql-yoga-csrf', 'graphql-preflight', 'apollo-require-preflight']) {
      const reply = await send(address, { headers: { [header]: '1' } });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text).data.products.totalCount).toBe(20);
    }
  });

  it('lets application/json POSTs through (browsers preflight them cross-site)', async () => {
    const reply = await postGraphQL(url, { query: QUERY });
    expect(reply.status).toBe(200);
  });

  it('refuses a mutation over GET with 405, even with the preflight header', async () => {
    const reply = await send(`${url}?query=${encodeURIComponent(MUTATION)}`, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(reply.status).toBe(405);
    expect(problemsOf(reply, { expectErrors: true })).toEqual([]);
  });
});

describe('request limits', () => {
  it('refuses a body over MAX_BODY_BYTES (64 KiB) with 413 before reading it', async () => {
    const reply = await postGraphQL(url, { query: QUERY, variables: { padding: 'x'.repeat(70_000) } });
    expect(reply.status).toBe(413);
    expect(errorsOf(reply.text)[0]!.extensions!['code']).toBe('REQUEST_ENTITY_TOO_LARGE');
  });

  it.each([
    ['a chunked body (no Content-Length) over 64 KiB: 413', 70_000, 413],
    ['a chunked body within the cap: answered', 1_000, 200],
  ])('counts %s', async (_, padding, status) => {
    const body = JSON.stringify({ query: QUERY, variables: { padding: 'x'.repeat(padding) } });
    const reply = await rawPost(url, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, [body.slice(0, 500), body.slice(500)]);
    expect(reply.status).toBe(status);
    if (status === 413) expect(errorsOf(reply.text)[0]!.extensions!['code']).toBe('REQUEST_ENTITY_TOO_LARGE');
    else expect(JSON.parse(reply.text).data.products.totalCount).toBe(20);
  });

  it('refuses a malformed Content-Length (a smuggling list) with 400', async () => {
    const body = JSON.stringify({ query: QUERY });
    const reply = await rawPost(url, { 'content-type': 'application/json', 'content-length': `${body.length}, ${body.length}` }, [body]);
    expect(reply.status).toBe(400);
  });

  it('accepts the largest real body: a 50-line order', async () => {
    const lines = Array.from({ length: 50 }, () => ({ productId: Buffer.from(`Product:${crypto.randomUUID()}`).toString('base64'), quantity: 1000 }));
    const reply = await postGraphQL(url, { query: 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename } }', variables: { input: { idempotencyKey: crypto.randomUUID(), lines } } });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text).data.placeOrder.__typename).toBe('UnauthenticatedError');
  });

  it('does not batch: an array of operations is one 400', async () => {
    const reply = await postGraphQL(url, [{ query: QUERY }, { query: QUERY }]);
    expect(reply.status).toBe(400);
    expect(errorsOf(reply.text)[0]!.message).toMatch(/Batching is not supported/);
  });

  it('answers an unreadable content type with a GraphQL error and 415', async () => {
    const reply = await send(url, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<query/>' });
    expect(reply.status).toBe(415);
    expect(errorsOf(reply.text)[0]!.extensions!['code']).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('caps first/last at 100', async () => {
    const reply = await postGraphQL(url, { query: '{ products(first: 101) { totalCount } }' });
    expect(errorsOf(reply.text)[0]!.extensions!['code']).toBe('VALIDATION_FAILED');
  });
});

describe('document limits (outside production the message names the limit)', () => {
  it.each([
    ['depth', `{ orders { edges { node { customer { orders { edges { node { id } } } } } } } }`, /depth limit of 7 exceeded, found 8/],
    ['aliases', `{ ${Array.from({ length: 6 }, (_, i) => `a${i}: me { id }`).join(' ')} }`, /Aliases limit of 5 exceeded, found 6/],
    ['directives', `{ me ${'@include(if: true) '.repeat(11)}{ id } }`, /Directives limit of 10 exceeded, found 11/],
    ['tokens', `{ me { ${'id '.repeat(500)}} }`, /Token limit of 500 exceeded/],
    ['cost (literal page sizes)', `{ products(first: 100) { edges { node { id sku name description stock active inStock createdAt updatedAt price { amount currency } } } } customers(first: 100) { edges { node { id email name tier } } } orders(first: 100) { edges { node { id number status } } } }`, /Cost limit of 3000 exceeded/],
  ])('refuses a document over the %s limit', async (_limit, query, message) => {
    const reply = await postGraphQL(url, { query }, { accept: 'application/graphql-response+json' });
    expect(reply.status).toBe(400);
    const [error] = errorsOf(reply.text);
    expect(error!.extensions!['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(error!.message).toMatch(message);
  });

  it('prices page sizes sent in variables and ids lists (armor alone counts neither)', async () => {
    const query =
      'query($n: Int, $m: Int) { products(first: $n) { edges { node { id sku name description stock active inStock createdAt updatedAt price { amount currency } } } } customers(first: $m) { edges { node { id email name tier } } } orders { edges { node { id number status } } } }';
    // 100 products, 100 customers and the last 100 orders (pages from variables and a literal `last`): over 3,000.
    const reply = await postGraphQL(url, { query: query.replace('orders {', 'orders(last: 100) {'), variables: { n: 100, m: 100 } });
    expect(errorsOf(reply.text)[0]!.message).toMatch(/Cost limit of 3000 exceeded, found \d+/);
    const small = await postGraphQL(url, { query, variables: { n: 10, m: 10 } });
    expect(errorsOf(small.text)[0]!.extensions!['code']).toBe('UNAUTHENTICATED');
    const ids = await postGraphQL(url, { query: 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', variables: { ids: Array.from({ length: 1_500 }, (_, i) => `x${i}`) } });
    expect(errorsOf(ids.text)[0]!.message).toMatch(/Cost limit of 3000 exceeded/);
  });

  it('runs every real operation at the largest page size', async () => {
    const token = await app.demoToken('admin');
    const reply = await postGraphQL(
      url,
      { query: 'query($first: Int) { orders(first: $first) { edges { node { id customer { email } lines { product { name } } payment { status } } } pageInfo { hasNextPage endCursor } } }', variables: { first: 100 } },
      { authorization: `Bearer ${token}` },
    );
    expect(JSON.parse(reply.text).errors).toBeUndefined();
  });
});
