import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { eventually } from '../support/eventually.ts';

// The response cache's hit path in front of yoga (src/graphql/response-cache-front.ts, docs/adr/0015):
// a cached plain JSON query is answered before yoga's pipeline with the answer yoga's own hit would
// give, charged to the same budget; everything it cannot answer reaches yoga intact.

let app: TestApp;
let customer: string;

const PRODUCTS = 'query FrontProducts { products(first: 5) { edges { node { id sku name } } } }';
const ME = 'query FrontMe { me { id email tier } }';

/** POSTs `body` as JSON to the app over real HTTP (through the front). */
async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; requestId: string | null; json: Record<string, any> }> {
  const response = await fetch(app.running.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.status, type: response.headers.get('content-type'), requestId: response.headers.get('x-request-id'), json: (await response.json()) as Record<string, any> };
}

/** Queries answered by the front so far (its Prometheus counter). */
async function frontHits(): Promise<number> {
  const text = await (await fetch(new URL('/metrics', app.running.url))).text();
  return Number(/^ordergraph_response_cache_front_hits_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

/** Sends `query` as `token`'s viewer until the front answers it from the cache. */
async function untilFrontHit(query: string, token?: string, headers: Record<string, string> = {}) {
  return eventually(
    async () => {
      const before = await frontHits();
      const answer = await post({ query }, { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers });
      return answer.json.extensions?.responseCache?.hit === true && (await frontHits()) === before + 1 ? answer : false;
    },
    { what: 'a hit answered by the front' },
  );
}

beforeAll(async () => {
  app = await startTestApp({ env: { RATE_LIMITS: 'true', COST_BUDGET_BASIC: '300', COST_BUDGET_WINDOW_SECONDS: '600' } });
  customer = await app.demoToken('basic');
});

afterAll(async () => {
  await app?.stop();
});

describe('the response cache front', () => {
  it('answers a cached query with the body yoga would give, for either media type, with the request id asked for', async () => {
    const hit = await untilFrontHit(PRODUCTS, undefined, { accept: 'application/graphql-response+json', 'x-request-id': 'front-test-1' });
    expect(hit.status).toBe(200);
    expect(hit.type).toBe('application/graphql-response+json; charset=utf-8');
    expect(hit.requestId).toBe('front-test-1');
    const viaYoga = await app.running.yoga.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body: JSON.stringify({ query: PRODUCTS }) });
    const yogaBody = (await viaYoga.json()) as Record<string, any>;
    expect(yogaBody.extensions.responseCache.hit).toBe(true);
    // The same answer; `remaining` differs only because yoga.fetch has no client address (another identity).
    const { remaining: _a, ...frontCost } = hit.json.extensions.cost as Record<string, number>;
    const { remaining: _b, ...yogaCost } = yogaBody.extensions.cost as Record<string, number>;
    expect({ ...hit.json, extensions: { ...hit.json.extensions, cost: frontCost } }).toEqual({ ...yogaBody, extensions: { ...yogaBody.extensions, cost: yogaCost } });
    expect(Object.keys(hit.json.extensions)).toEqual(Object.keys(yogaBody.extensions));
    const plain = await untilFrontHit(PRODUCTS);
    expect(plain.type).toBe('application/json; charset=utf-8');
    expect(plain.json.data).toEqual(yogaBody.data);
  });

  it("charges a hit to the viewer's budget like a run, and once the budget is spent the refusal comes from yoga (429)", async () => {
    const first = await post({ query: ME }, { authorization: `Bearer ${customer}` });
    expect(first.json.data.me.tier).toBe('BASIC');
    const hit = await untilFrontHit(ME, customer);
    const { requested, remaining, budget } = hit.json.extensions.cost as { requested: number; remaining: number; budget: number };
    expect(budget).toBe(300);
    expect(requested).toBe(first.json.extensions.cost.requested);
    const next = await untilFrontHit(ME, customer);
    expect(next.json.extensions.cost.remaining).toBe(remaining - requested);
    let refused: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < Math.ceil(300 / requested) + 1 && !refused; i += 1) {
      const answer = await post({ query: ME }, { authorization: `Bearer ${customer}` });
      if (answer.status === 429) refused = answer;
    }
    expect(refused?.json.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(refused?.json.extensions.cost.remaining).toBeLessThan(requested);
  });

  it('sends an invalid token with a cached query on to yoga, which answers 401', async () => {
    await untilFrontHit(PRODUCTS);
    const answer = await post({ query: PRODUCTS }, { authorization: 'Bearer not-a-token' });
    expect(answer.status).toBe(401);
    expect(answer.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('hands what it does not answer to yoga with the body intact: a mutation, a malformed body, extra parameters', async () => {
    const admin = await app.demoToken('admin');
    const product = (await post({ query: PRODUCTS })).json.data.products.edges[0].node.id as string;
    const adjusted = await post(
      { query: 'mutation FrontAdjust($input: AdjustStockInput!) { adjustStock(input: $input) { __typename ... on AdjustStockSuccess { product { id } } } }', variables: { input: { productId: product, delta: 1 } } },
      { authorization: `Bearer ${admin}` },
    );
    expect(adjusted.json.data.adjustStock).toEqual({ __typename: 'AdjustStockSuccess', product: { id: product } });
    const malformed = await post('{"query": ');
    expect(malformed.status).toBe(400);
    const extra = await post({ query: PRODUCTS, extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } } });
    expect(extra.status).toBeLessThan(500);
  });
});
