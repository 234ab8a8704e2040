import { request } from 'node:http';
import { exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { problemsOf, send, type Reply } from './support.ts';

/**
 * Issue 10 items 5, 6 and 9: a request the server cannot read gets 400 (405 for a method GraphQL
 * over HTTP does not define) with a code and a clear message, never the parser's own words, a
 * silently repaired body, a 200 or a 500. The same in production.
 */

const errorsOf = (reply: Reply) => (JSON.parse(reply.text) as { errors?: { message: string; extensions?: Record<string, unknown> }[] }).errors ?? [];

/** A POST written chunk by chunk (no Content-Length), the chunks split where the test says. */
function chunkedPost(url: string, headers: Record<string, string>, chunks: readonly Uint8Array[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (chunk: Buffer) => parts.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: new Headers(response.headers as Record<string, string>), text: Buffer.concat(parts).toString('utf8') }));
    });
    outgoing.on('error', reject);
    for (const chunk of chunks) outgoing.write(chunk);
    outgoing.end();
  });
}

const json = { 'content-type': 'application/json' };
const SEARCH = (term: string) => `{ products(first: 1, filter: { search: "${term}" }) { totalCount } }`;
/** A JSON body searching for `before`, then the raw bytes, then `after`. */
const bodyWithBytes = (bytes: number[]) => Buffer.concat([Buffer.from(`{"query":"{ products(first: 1, filter: { search: \\"a`), Buffer.from(bytes), Buffer.from(`b\\" }) { totalCount } }"}`)]);

describe.each([['test'], ['production']])('NODE_ENV=%s', (nodeEnv) => {
  let app: TestApp;
  let url: string;

  beforeAll(async () => {
    const production: Record<string, string> =
      nodeEnv === 'production' ? { SEED_DEMO_DATA: 'false', JWT_PRIVATE_KEY: await exportPKCS8((await generateKeyPair('ES256', { extractable: true })).privateKey) } : {};
    app = await startTestApp({ env: { NODE_ENV: nodeEnv, ...production } });
    url = app.running.url;
  });
  afterAll(() => app?.stop());

  /** Checks a refusal: the status, one error with this code, nothing leaked, no parser details. */
  const expectRefused = (reply: Reply, status: number, code: string) => {
    expect(reply.status).toBe(status);
    expect(problemsOf(reply, { expectErrors: true })).toEqual([]);
    const errors = errorsOf(reply);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.extensions).toEqual({ code });
    return errors[0]!.message;
  };

  describe('a body that is not JSON', () => {
    it.each([['{"query": '], ['NONSENSE'], ['{"query": "{ __typename }",}'], ['']])('%j: 400 BAD_REQUEST, no originalError or parser message', async (body) => {
      const reply = await send(url, { method: 'POST', headers: json, body });
      const message = expectRefused(reply, 400, 'BAD_REQUEST');
      expect(message).toBe('The request body is not valid JSON.');
      expect(reply.text).not.toMatch(/originalError|SyntaxError|Unexpected|position|NONSENSE/);
    });
  });

  describe('a body that is not UTF-8', () => {
    it.each([
      ['a byte that starts no character', [0xff]],
      ['a lead byte without its continuation', [0xc3, 0x28]],
      ['an overlong encoding of "/"', [0xc0, 0xaf]],
      ['an encoded UTF-16 surrogate', [0xed, 0xa0, 0x80]],
    ])('%s: 400 BAD_REQUEST instead of a silent U+FFFD', async (_name, bytes) => {
      const reply = await send(url, { method: 'POST', headers: json, body: bodyWithBytes(bytes) });
      expect(expectRefused(reply, 400, 'BAD_REQUEST')).toBe('The request body is not valid UTF-8.');
    });

    it('refuses it in a chunked body too, and in a body of type application/graphql', async () => {
      const chunked = await chunkedPost(url, json, [bodyWithBytes([0xc3, 0x28])]);
      expectRefused(chunked, 400, 'BAD_REQUEST');
      const graphql = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/graphql', 'x-graphql-yoga-csrf': '1' },
        body: Buffer.concat([Buffer.from('{ products(first: 1, filter: { search: "'), Buffer.from([0xff]), Buffer.from('" }) { totalCount } }')]),
      });
      expectRefused(graphql, 400, 'BAD_REQUEST');
    });

    it('refuses percent-encoded invalid UTF-8 in a GET query string', async () => {
      const reply = await send(`${url}?query=${encodeURIComponent('{ products(first: 1, filter: { search: "a')}%C3%28${encodeURIComponent('" }) { totalCount } }')}`, { headers: { 'x-graphql-yoga-csrf': '1' } });
      expect(expectRefused(reply, 400, 'BAD_REQUEST')).toBe('The query string is not valid UTF-8.');
    });

    it('still reads valid multi-byte characters, also split across chunks and in a GET query string', async () => {
      const body = Buffer.from(JSON.stringify({ query: SEARCH('café ☕ 𝄞') }));
      const split = body.indexOf(Buffer.from('☕')) + 1;
      for (const reply of [
        await send(url, { method: 'POST', headers: json, body }),
        await chunkedPost(url, json, [body.subarray(0, split), body.subarray(split)]),
        await send(`${url}?query=${encodeURIComponent(SEARCH('café ☕ 𝄞'))}`, { headers: { 'x-graphql-yoga-csrf': '1' } }),
      ]) {
        expect(reply.status).toBe(200);
        // Extensions (response cache, cost) vary with the configuration; the answer is what counts here.
        expect({ ...JSON.parse(reply.text), extensions: undefined }).toEqual({ data: { products: { totalCount: 0 } } });
      }
    });
  });

  it('refuses GET variables or extensions that are not JSON with 400, not a masked 500', async () => {
    for (const param of ['variables', 'extensions']) {
      const reply = await send(`${url}?query=${encodeURIComponent('query($n: Int) { products(first: $n) { totalCount } }')}&${param}=%7Bnope`, { headers: { 'x-graphql-yoga-csrf': '1' } });
      expect(expectRefused(reply, 400, 'BAD_REQUEST')).toBe(`The ${param} parameter is not valid JSON.`);
    }
  });

  describe('methods', () => {
    it.each([['DELETE'], ['PUT'], ['PATCH']])('%s: 405 with Allow: GET, POST', async (method) => {
      const reply = await send(url, { method, headers: json, body: JSON.stringify({ query: '{ __typename }' }) });
      expect(reply.status).toBe(405);
      expect(reply.headers.get('allow')).toBe('GET, POST');
      expect(problemsOf(reply, { expectErrors: true })).toEqual([]);
      // PUT, graphql-sse's single connection mode, gets a code of its own (src/graphql/sse-modes.ts).
      expect(errorsOf(reply)[0]!.extensions!['code']).toEqual(expect.any(String));
    });

    it('HEAD: 405 with Allow: GET, POST', async () => {
      const reply = await send(url, { method: 'HEAD' });
      expect(reply.status).toBe(405);
      expect(reply.headers.get('allow')).toBe('GET, POST');
    });

    it('still answers a CORS preflight (OPTIONS)', async () => {
      const reply = await send(url, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
      expect(reply.status).toBe(204);
    });
  });

  describe('a request with no query', () => {
    it.each<[string, RequestInit & { query?: string }]>([
      ['GET with no parameters', { method: 'GET' }],
      ['GET with no parameters, JSON accepted', { method: 'GET', headers: { accept: 'application/json' } }],
      ['GET with only variables', { method: 'GET', query: 'variables=%7B%7D' }],
      ['POST {}', { method: 'POST', headers: json, body: '{}' }],
      ['POST {} accepting application/json', { method: 'POST', headers: { ...json, accept: 'application/json' }, body: '{}' }],
      ['POST with a null query', { method: 'POST', headers: json, body: '{"query":null,"variables":{}}' }],
    ])('%s: 400 BAD_REQUEST', async (_name, { query, ...init }) => {
      const reply = await send(query ? `${url}?${query}` : url, init);
      expect(expectRefused(reply, 400, 'BAD_REQUEST')).toMatch(/query/);
    });
  });
});

describe('GraphiQL (outside production)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app?.stop());

  it('is still served to a browser asking for /graphql with no query', async () => {
    const reply = await send(app.running.url, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('<title>Ordergraph</title>');
  });
});
