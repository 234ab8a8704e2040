import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

// graphql-jit executes queries and mutations (ADR 0008); GRAPHQL_JIT=false is graphql-js. The two
// must answer every document the same: data, errors as data, error lists with their paths and
// codes, nulls, fragments, directives, variables that do not coerce. Both apps share one database
// and one signing key, so their answers are compared byte for byte (minus the request id).

let jit: TestApp;
let plain: { url: string; stop: () => Promise<void> };
const tokens: Record<'admin' | 'basic', string> = { admin: '', basic: '' };

beforeAll(async () => {
  jit = await startTestApp();
  expect(jit.config.http.jit).toBe(true);
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: jit.db.url,
    DB_POOL_MAX: String(jit.db.poolMax),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATA_DIR: jit.config.dataDir,
    SEED_DEMO_DATA: 'false',
    GRAPHQL_JIT: 'false',
  });
  expect(config.http.jit).toBe(false);
  const app = createApp(config);
  const running = await app.start();
  plain = { url: running.url, stop: () => app.stop() };
  tokens.admin = await jit.demoToken('admin');
  tokens.basic = await jit.demoToken('basic');
});
afterAll(async () => {
  await plain?.stop();
  await jit?.stop();
});

async function ask(url: string, body: object, token?: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text.replace(/"requestId":"[^"]*"/g, '"requestId":"…"')) };
}

const ORDER_FIELDS = `id number status version discountPercent subtotal { amount currency } discount { amount } total { amount }
  createdAt updatedAt availableTransitions customer { id name tier } payment { status amount { amount } attempts }
  lines { productName quantity unitPrice { amount } lineTotal { amount } product { id sku name stock } }
  statusHistory { version from to actor reason }`;

const cases: [string, 'admin' | 'basic' | undefined, object][] = [
  ['a product page with cursors and totals', undefined, { query: '{ products(first: 5) { totalCount edges { cursor node { id sku name price { amount currency } stock } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }' }],
  ['a page backwards with a filter and an ordering', undefined, { query: '{ products(last: 3, filter: { inStock: true }, orderBy: { field: PRICE, direction: ASC }) { edges { node { sku price { amount } } } pageInfo { hasPreviousPage } } }' }],
  ['every order with its lines, products, customer, payment and history (admin)', 'admin', { query: `{ orders(first: 20) { totalCount edges { node { ${ORDER_FIELDS} } } } }` }],
  ['own orders through me, with aliases, fragments and directives', 'basic', {
    query: `query Mine($withLines: Boolean!, $skipTotal: Boolean!) {
      me { ...who orders(first: 3) { mine: edges { node { ...O total @skip(if: $skipTotal) { amount } lines @include(if: $withLines) { quantity } } } } }
    }
    fragment who on Customer { __typename id email tier discountPercent }
    fragment O on Order { __typename number status }`,
    variables: { withLines: true, skipTotal: false },
  }],
  // c is unknown, not malformed: after b's error nulls `data`, graphql-js runs no further root
  // field while jit still runs c, so an error of c would be in one answer only.
  ['node and nodes, known, unknown and malformed ids', 'admin', { query: '{ a: node(id: "bm9wZQ==") { id } b: nodes(ids: ["Zm9v", "UHJvZHVjdDowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA="]) { id } c: order(id: "T3JkZXI6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw") { id } }' }],
  ['malformed ids on typed fields (BAD_USER_INPUT)', 'admin', { query: '{ c: order(id: "x") { id } p: product(id: "T3JkZXI6") { id } o: orders(filter: { customerId: "Zm9v" }) { totalCount } }' }],
  ['an admin-only list asked by a customer (FORBIDDEN, with its path)', 'basic', { query: '{ customers(first: 2) { totalCount } me { name } }' }],
  ['the same list asked anonymously', undefined, { query: '{ customers(first: 2) { totalCount } }' }],
  ['a page size over the cap (VALIDATION_FAILED)', undefined, { query: '{ products(first: 1000) { totalCount } }' }],
  ['a tampered cursor', 'admin', { query: '{ orders(first: 2, after: "eyJub3BlIjp0cnVlfQ") { totalCount edges { cursor } } }' }],
  ['a variable that does not coerce', 'admin', { query: 'query($s: [OrderStatus!]) { orders(filter: { status: $s }) { totalCount } }', variables: { s: ['PAIDD'] } }],
  ['a missing required variable', undefined, { query: 'query($id: ID!) { product(id: $id) { id } }' }],
  ['a mutation refused as data (VALIDATION_FAILED with field paths)', 'basic', {
    query: 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename ... on Error { code message } ... on ValidationError { fields { path message } } } }',
    variables: { input: { idempotencyKey: 'k', lines: [] } },
  }],
  ['a mutation refused for an anonymous caller', undefined, {
    query: 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename ... on Error { code } } }',
    variables: { input: { idempotencyKey: 'jit-equivalence-1', lines: [{ productId: 'UHJvZHVjdDp4', quantity: 1 }] } },
  }],
];

describe('graphql-jit answers exactly as graphql-js', () => {
  it.each(cases)('%s', async (_label, who, body) => {
    const token = who ? tokens[who] : undefined;
    const [fromJit, fromPlain] = [await ask(jit.running.url, body, token), await ask(plain.url, body, token)];
    expect(fromJit).toEqual(fromPlain);
    // Not vacuous: each case has data or errors to compare.
    expect(JSON.stringify(fromJit.body).length).toBeGreaterThan(20);
  });
});
