import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

/**
 * Issue 10 item 4: the `code` of `graphql_envelop_error_result` and the `errorCodes` of the log
 * line are the codes the client got, on every path a request can fail on. A client's mistake is
 * never INTERNAL_SERVER_ERROR (an alert on that series must mean a server fault); a fault still is.
 */

interface LogLine {
  readonly msg: string;
  readonly requestId?: string;
  readonly errorCodes?: readonly string[];
  readonly status?: number;
  readonly [field: string]: unknown;
}

const lines: LogLine[] = [];
/** When set, the next SQL statement containing it fails as a broken driver would (an unexpected error). */
let failSqlContaining: string | undefined;
let app: TestApp;
let url: string;

beforeAll(async () => {
  app = await startTestApp({
    // Rate limits on (off by default under NODE_ENV=test) with one order per minute, so the second is refused.
    env: { LOG_LEVEL: 'info', RATE_LIMITS: 'true', RATE_LIMIT_PLACE_ORDER: '1/60' },
    app: {
      logDestination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
      onQuery: (sql) => {
        if (failSqlContaining && sql.includes(failSqlContaining)) {
          failSqlContaining = undefined;
          throw new Error('simulated driver failure');
        }
      },
    },
  });
  url = app.running.url;
});
afterAll(() => app?.stop());

/** Sum of `graphql_envelop_error_result` over every series with this code. */
async function errorsCounted(code: string): Promise<number> {
  const text = await (await fetch(url.replace(/\/graphql$/, '/metrics'))).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('graphql_envelop_error_result{') && line.includes(`code="${code}"`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

interface Reply {
  readonly status: number;
  readonly codes: readonly (string | undefined)[];
}

const parseReply = (status: number, text: string): Reply => {
  const body = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
  return { status, codes: (body.errors ?? []).map((e) => e.extensions?.code) };
};

/** fetch with the request id header; reads the reply as a GraphQL response. */
async function send(requestId: string, init: RequestInit & { query?: string }): Promise<Reply> {
  const { query, ...rest } = init;
  const response = await fetch(query === undefined ? url : `${url}?${query}`, {
    ...rest,
    headers: { accept: 'application/graphql-response+json', 'x-request-id': requestId, ...(rest.headers as Record<string, string>) },
  });
  return parseReply(response.status, await response.text());
}

const post = (requestId: string, body: unknown, headers: Record<string, string> = {}) =>
  send(requestId, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** A POST written in chunks with no Content-Length (fetch would add one). */
function chunkedPost(requestId: string, body: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'x-request-id': requestId } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve(parseReply(response.statusCode ?? 0, text)));
    });
    // The server answers 413 and may close before the whole body is written.
    outgoing.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    for (let i = 0; i < body.length; i += 16_384) outgoing.write(body.slice(i, i + 16_384));
    outgoing.end();
  });
}

const PLACE_ORDER = 'mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename } }';
const orderInput = (quantity: number) => ({ input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId: Buffer.from(`Product:${crypto.randomUUID()}`).toString('base64'), quantity }] } });
const DEEP = '{ orders { edges { node { customer { orders { edges { node { id } } } } } } } }';

/** Each client mistake: how to make it, the HTTP status, and the code the client and the operator must both see. */
const mistakes: readonly [name: string, make: (requestId: string) => Promise<Reply>, status: number, code: string][] = [
  ['variables that do not coerce (quantity 1.5)', (id) => post(id, { query: PLACE_ORDER, variables: orderInput(1.5) }), 400, 'BAD_USER_INPUT'],
  ['a missing required variable', (id) => post(id, { query: 'query($n: Int!) { products(first: $n) { totalCount } }' }), 400, 'BAD_USER_INPUT'],
  ['a document that does not validate', (id) => post(id, { query: '{ nope }' }), 400, 'GRAPHQL_VALIDATION_FAILED'],
  ['a syntax error', (id) => post(id, { query: '{ products(' }), 400, 'GRAPHQL_PARSE_FAILED'],
  ['a document over the depth limit', (id) => post(id, { query: DEEP }), 400, 'GRAPHQL_VALIDATION_FAILED'],
  ['a malformed global id', (id) => post(id, { query: '{ node(id: "T3JkZXI6") { id } }' }), 200, 'BAD_USER_INPUT'],
  ['an invalid access token', (id) => post(id, { query: '{ me { id } }' }, { authorization: 'Bearer not.a.token' }), 401, 'UNAUTHENTICATED'],
  ['a body that is not JSON', (id) => post(id, '{"query": '), 400, 'BAD_REQUEST'],
  ['a body that is not UTF-8', (id) => post(id, Buffer.concat([Buffer.from('{"query":"{ products(filter: { search: \\"'), Buffer.from([0xc3, 0x28]), Buffer.from('\\" }) { totalCount } }"}')]) as never), 400, 'BAD_REQUEST'],
  ['a request with no query', (id) => post(id, {}), 400, 'BAD_REQUEST'],
  ['GET variables that are not JSON', (id) => send(id, { query: `query=${encodeURIComponent('query($n: Int) { products(first: $n) { totalCount } }')}&variables=%7Bnope`, headers: { 'x-graphql-yoga-csrf': '1' } }), 400, 'BAD_REQUEST'],
  ['a method GraphQL over HTTP does not define', (id) => send(id, { method: 'DELETE' }), 405, 'BAD_REQUEST'],
  ['a mutation over GET', (id) => send(id, { query: `query=${encodeURIComponent('mutation { signIn(input: { email: "a@b.c", password: "x" }) { __typename } }')}`, headers: { 'x-graphql-yoga-csrf': '1' } }), 405, 'BAD_REQUEST'],
  ['an unreadable content type', (id) => send(id, { method: 'POST', headers: { 'content-type': 'application/xml', 'x-graphql-yoga-csrf': '1' }, body: '<query/>' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ['a chunked body over MAX_BODY_BYTES', (id) => chunkedPost(id, JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(70_000) } })), 413, 'REQUEST_ENTITY_TOO_LARGE'],
  [
    'a second order within the rate limit window',
    async (id) => {
      // A customer of its own, so no other case spends this budget.
      const authorization = `Bearer ${await app.demoToken('basic')}`;
      await post(`${id}-first`, { query: PLACE_ORDER, variables: orderInput(1) }, { authorization });
      return post(id, { query: PLACE_ORDER, variables: orderInput(1) }, { authorization });
    },
    429,
    'RATE_LIMITED',
  ],
];

describe('client mistakes are counted and logged with the code the client got', () => {
  it.each(mistakes)('%s', async (name, make, status, code) => {
    const requestId = `mistake-${crypto.randomUUID()}`;
    const [internalBefore, codeBefore] = [await errorsCounted('INTERNAL_SERVER_ERROR'), await errorsCounted(code)];

    const reply = await make(requestId);
    expect(reply.status, name).toBe(status);
    expect(reply.codes).toEqual([code]);

    // One line per request: the operation's when it ran, else the refusal's; written before the reply.
    const logged = lines.filter((l) => l.requestId === requestId && (l.msg === 'graphql operation' || l.msg === 'graphql request refused'));
    expect(logged).toHaveLength(1);
    expect(logged[0]!.errorCodes).toEqual([code]);

    expect(await errorsCounted(code)).toBe(codeBefore + 1);
    expect(await errorsCounted('INTERNAL_SERVER_ERROR')).toBe(internalBefore);
  });

  it('counts a repeated syntax error each time (the second is answered from the parse cache)', async () => {
    const before = await errorsCounted('GRAPHQL_PARSE_FAILED');
    for (let i = 0; i < 2; i++) expect((await post(`parse-${i}-${crypto.randomUUID()}`, { query: '{ orders(' })).codes).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(await errorsCounted('GRAPHQL_PARSE_FAILED')).toBe(before + 2);
  });

  it('logs a cross-site form POST (CSRF) with a client-error code, never INTERNAL_SERVER_ERROR', async () => {
    const requestId = `csrf-${crypto.randomUUID()}`;
    const internalBefore = await errorsCounted('INTERNAL_SERVER_ERROR');
    const reply = await send(requestId, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{ __typename }' });
    expect(reply.status).toBe(403);
    // The code the client got, or FORBIDDEN for a 403 without one.
    const code = reply.codes[0] ?? 'FORBIDDEN';
    const logged = lines.find((l) => l.requestId === requestId && l.msg === 'graphql request refused');
    expect(logged).toMatchObject({ status: 403, errorCodes: [code] });
    expect(await errorsCounted('INTERNAL_SERVER_ERROR')).toBe(internalBefore);
  });
});

describe('a server fault', () => {
  it('is still INTERNAL_SERVER_ERROR, in the reply, the log line and the metric', async () => {
    const requestId = `fault-${crypto.randomUUID()}`;
    const before = await errorsCounted('INTERNAL_SERVER_ERROR');
    failSqlContaining = 'catalog_product';
    const reply = await post(requestId, { query: '{ products(first: 1) { totalCount } }' });
    expect(failSqlContaining).toBeUndefined();
    expect(reply.codes).toEqual(['INTERNAL_SERVER_ERROR']);
    const logged = lines.find((l) => l.requestId === requestId && l.msg === 'graphql operation');
    expect(logged?.errorCodes).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(await errorsCounted('INTERNAL_SERVER_ERROR')).toBe(before + 1);
  });
});
