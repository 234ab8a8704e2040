// Every string a client can send reaches SQL only once it is known to be storable: a NUL character
// (PostgreSQL text cannot hold one), another control character, an over-long value, a cursor or
// date PostgreSQL's timestamptz cannot represent gets a typed answer, never INTERNAL_SERVER_ERROR,
// and leaves the database as it was (issue 10, item 3). The table below names every String, ID and
// DateTime argument of the schema; the first test fails when one is added without a probe.
import { Writable } from 'node:stream';
import { getNamedType, isInputObjectType, isListType, isObjectType, getNullableType, type GraphQLInputType, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { postGraphQL } from './support.ts';

/** Longest string the whole request may carry anywhere (src/graphql/security/limits.ts, docs/security.md). */
const GATE = 4_096;
const NUL = 'ab\u0000cd';

type Who = 'anonymous' | 'basic' | 'admin';
/**
 * What a bad value gets: a mutation's ValidationError (data) or a query's VALIDATION_FAILED error,
 * with the field path; for ids, no such object; for a scalar that refuses the text itself
 * (DateTime), the request error of a variable that does not coerce (400 BAD_USER_INPUT).
 */
type Expectation = { readonly validation: readonly string[] } | { readonly notFound: true } | { readonly coercion: true };

interface Probe {
  /** Schema coordinate of the argument, e.g. `Mutation.signUp(input.name)`. */
  readonly coordinate: string;
  readonly as: Who;
  /** The operation and its variables carrying `value` in that argument. */
  readonly request: (value: string) => { query: string; variables: Record<string, unknown> };
  /** Documented maximum length (code points); `maxLength + 1` characters must be refused. */
  readonly maxLength: number;
  readonly expect: Expectation;
}

let app: TestApp;
const logLines: { level: number; msg?: string }[] = [];
const ids = { product: '', order: '', adminOrder: '', customer: '' };

const tokenOf = async (who: Who) => (who === 'anonymous' ? undefined : app.demoToken(who));
const mutation = (field: string, inputType: string, selection = '') =>
  `mutation Probe($input: ${inputType}!) { ${field}(input: $input) { __typename ... on Error { code message } ... on ValidationError { fields { path message } } ${selection} } }`;
const signUp = (fields: Record<string, string>) => ({ query: mutation('signUp', 'SignUpInput'), variables: { input: { email: `new-${crypto.randomUUID()}@example.dev`, password: 'a long enough password', name: 'New Customer', ...fields } } });
const signIn = (fields: Record<string, string>) => ({ query: mutation('signIn', 'SignInInput'), variables: { input: { email: 'basic@ordergraph.dev', password: 'demo-pass-basic', ...fields } } });
const createProduct = (fields: Record<string, string>) => ({
  query: mutation('createProduct', 'CreateProductInput'),
  variables: { input: { sku: `PROBE-${crypto.randomUUID().slice(0, 8).toUpperCase()}`, name: 'Probe', price: '1.00', stock: 1, ...fields } },
});
const updateProduct = (fields: Record<string, string>) => ({ query: mutation('updateProduct', 'UpdateProductInput'), variables: { input: { productId: ids.product, ...fields } } });
const placeOrder = (fields: { idempotencyKey?: string; productId?: string }) => ({
  query: mutation('placeOrder', 'PlaceOrderInput', '... on PlaceOrderSuccess { order { id } }'),
  variables: { input: { idempotencyKey: fields.idempotencyKey ?? crypto.randomUUID(), lines: [{ productId: fields.productId ?? ids.product, quantity: 1 }] } },
});
const cancelOrder = (fields: Record<string, string>) => ({ query: mutation('cancelOrder', 'CancelOrderInput'), variables: { input: { orderId: ids.order, ...fields } } });
const updateOrderStatus = (fields: Record<string, string>) => ({
  query: mutation('updateOrderStatus', 'UpdateOrderStatusInput'),
  // CANCELLED at version 1 would be allowed: only the bad value can stop it.
  variables: { input: { orderId: ids.adminOrder, status: 'CANCELLED', expectedVersion: 1, ...fields } },
});
const query = (text: string, variables: Record<string, unknown>) => ({ query: text, variables });

const PROBES: readonly Probe[] = [
  { coordinate: 'Mutation.signUp(input.email)', as: 'anonymous', maxLength: 254, request: (v) => signUp({ email: v }), expect: { validation: ['email'] } },
  { coordinate: 'Mutation.signUp(input.name)', as: 'anonymous', maxLength: 100, request: (v) => signUp({ name: v }), expect: { validation: ['name'] } },
  { coordinate: 'Mutation.signUp(input.password)', as: 'anonymous', maxLength: 128, request: (v) => signUp({ password: `${v}-long-enough` }), expect: { validation: ['password'] } },
  { coordinate: 'Mutation.signIn(input.email)', as: 'anonymous', maxLength: 254, request: (v) => signIn({ email: v }), expect: { validation: ['email'] } },
  { coordinate: 'Mutation.signIn(input.password)', as: 'anonymous', maxLength: 128, request: (v) => signIn({ password: v }), expect: { validation: ['password'] } },
  { coordinate: 'Mutation.createProduct(input.sku)', as: 'admin', maxLength: 40, request: (v) => createProduct({ sku: v }), expect: { validation: ['sku'] } },
  { coordinate: 'Mutation.createProduct(input.name)', as: 'admin', maxLength: 200, request: (v) => createProduct({ name: v }), expect: { validation: ['name'] } },
  { coordinate: 'Mutation.createProduct(input.description)', as: 'admin', maxLength: 2_000, request: (v) => createProduct({ description: v }), expect: { validation: ['description'] } },
  { coordinate: 'Mutation.createProduct(input.price)', as: 'admin', maxLength: 18, request: (v) => createProduct({ price: v }), expect: { validation: ['input', 'price'] } },
  { coordinate: 'Mutation.updateProduct(input.productId)', as: 'admin', maxLength: 200, request: (v) => updateProduct({ productId: v, name: 'Renamed' }), expect: { notFound: true } },
  { coordinate: 'Mutation.updateProduct(input.name)', as: 'admin', maxLength: 200, request: (v) => updateProduct({ name: v }), expect: { validation: ['name'] } },
  { coordinate: 'Mutation.updateProduct(input.description)', as: 'admin', maxLength: 2_000, request: (v) => updateProduct({ description: v }), expect: { validation: ['description'] } },
  { coordinate: 'Mutation.updateProduct(input.price)', as: 'admin', maxLength: 18, request: (v) => updateProduct({ price: v }), expect: { validation: ['input', 'price'] } },
  { coordinate: 'Mutation.adjustStock(input.productId)', as: 'admin', maxLength: 200, request: (v) => ({ query: mutation('adjustStock', 'AdjustStockInput'), variables: { input: { productId: v, delta: 1 } } }), expect: { notFound: true } },
  { coordinate: 'Mutation.createProduct(input.idempotencyKey)', as: 'admin', maxLength: 255, request: (v) => createProduct({ idempotencyKey: v }), expect: { validation: ['idempotencyKey'] } },
  { coordinate: 'Mutation.updateProduct(input.idempotencyKey)', as: 'admin', maxLength: 255, request: (v) => updateProduct({ name: 'Renamed', idempotencyKey: v }), expect: { validation: ['idempotencyKey'] } },
  { coordinate: 'Mutation.adjustStock(input.idempotencyKey)', as: 'admin', maxLength: 255, request: (v) => ({ query: mutation('adjustStock', 'AdjustStockInput'), variables: { input: { productId: ids.product, delta: 1, idempotencyKey: v } } }), expect: { validation: ['idempotencyKey'] } },
  { coordinate: 'Mutation.signUp(input.idempotencyKey)', as: 'anonymous', maxLength: 255, request: (v) => signUp({ idempotencyKey: v }), expect: { validation: ['idempotencyKey'] } },
  {
    coordinate: 'Mutation.setCustomerTier(input.idempotencyKey)',
    as: 'admin',
    maxLength: 255,
    request: (v) => ({ query: mutation('setCustomerTier', 'SetCustomerTierInput'), variables: { input: { customerId: 'any', tier: 'PREMIUM', idempotencyKey: v } } }),
    expect: { validation: ['idempotencyKey'] },
  },
  { coordinate: 'Mutation.placeOrder(input.idempotencyKey)', as: 'basic', maxLength: 255, request: (v) => placeOrder({ idempotencyKey: v }), expect: { validation: ['input', 'idempotencyKey'] } },
  { coordinate: 'Mutation.placeOrder(input.lines.productId)', as: 'basic', maxLength: 200, request: (v) => placeOrder({ productId: v }), expect: { validation: ['input', 'lines', '0', 'productId'] } },
  { coordinate: 'Mutation.cancelOrder(input.orderId)', as: 'basic', maxLength: 200, request: (v) => cancelOrder({ orderId: v }), expect: { notFound: true } },
  { coordinate: 'Mutation.cancelOrder(input.reason)', as: 'basic', maxLength: 500, request: (v) => cancelOrder({ reason: v }), expect: { validation: ['input', 'reason'] } },
  { coordinate: 'Mutation.updateOrderStatus(input.orderId)', as: 'admin', maxLength: 200, request: (v) => updateOrderStatus({ orderId: v }), expect: { notFound: true } },
  { coordinate: 'Mutation.updateOrderStatus(input.reason)', as: 'admin', maxLength: 500, request: (v) => updateOrderStatus({ reason: v }), expect: { validation: ['input', 'reason'] } },
  { coordinate: 'Mutation.cancelOrder(input.idempotencyKey)', as: 'basic', maxLength: 255, request: (v) => cancelOrder({ idempotencyKey: v }), expect: { validation: ['input', 'idempotencyKey'] } },
  { coordinate: 'Mutation.updateOrderStatus(input.idempotencyKey)', as: 'admin', maxLength: 255, request: (v) => updateOrderStatus({ idempotencyKey: v }), expect: { validation: ['input', 'idempotencyKey'] } },
  {
    coordinate: 'Mutation.setCustomerTier(input.customerId)',
    as: 'admin',
    maxLength: 200,
    request: (v) => ({ query: mutation('setCustomerTier', 'SetCustomerTierInput'), variables: { input: { customerId: v, tier: 'PREMIUM' } } }),
    expect: { notFound: true },
  },
  { coordinate: 'Query.products(filter.search)', as: 'anonymous', maxLength: 200, request: (v) => query('query P($s: String) { products(filter: { search: $s }) { totalCount edges { node { id } } } }', { s: v }), expect: { validation: ['filter', 'search'] } },
  { coordinate: 'Query.products(filter.minPrice)', as: 'anonymous', maxLength: 18, request: (v) => query('query P($p: String) { products(filter: { minPrice: $p }) { totalCount } }', { p: v }), expect: { validation: ['filter', 'minPrice'] } },
  { coordinate: 'Query.products(filter.maxPrice)', as: 'anonymous', maxLength: 18, request: (v) => query('query P($p: String) { products(filter: { maxPrice: $p }) { totalCount } }', { p: v }), expect: { validation: ['filter', 'maxPrice'] } },
  { coordinate: 'Query.products(after)', as: 'anonymous', maxLength: 1_024, request: (v) => query('query P($c: String) { products(first: 1, after: $c) { totalCount edges { node { id } } } }', { c: v }), expect: { validation: ['after'] } },
  { coordinate: 'Query.products(before)', as: 'anonymous', maxLength: 1_024, request: (v) => query('query P($c: String) { products(last: 1, before: $c) { totalCount edges { node { id } } } }', { c: v }), expect: { validation: ['before'] } },
  { coordinate: 'Query.product(id)', as: 'anonymous', maxLength: 200, request: (v) => query('query P($id: ID!) { product(id: $id) { id } }', { id: v }), expect: { notFound: true } },
  { coordinate: 'Query.orders(after)', as: 'basic', maxLength: 1_024, request: (v) => query('query O($c: String) { orders(first: 1, after: $c) { edges { node { id } } } }', { c: v }), expect: { validation: ['after'] } },
  { coordinate: 'Query.orders(before)', as: 'basic', maxLength: 1_024, request: (v) => query('query O($c: String) { orders(last: 1, before: $c) { edges { node { id } } } }', { c: v }), expect: { validation: ['before'] } },
  { coordinate: 'Query.orders(filter.customerId)', as: 'admin', maxLength: 200, request: (v) => query('query O($id: ID) { orders(filter: { customerId: $id }) { totalCount edges { node { id } } } }', { id: v }), expect: { notFound: true } },
  { coordinate: 'Query.orders(filter.createdAfter)', as: 'basic', maxLength: 64, request: (v) => query('query O($d: DateTime) { orders(filter: { createdAfter: $d }) { totalCount } }', { d: v }), expect: { coercion: true } },
  { coordinate: 'Query.orders(filter.createdBefore)', as: 'basic', maxLength: 64, request: (v) => query('query O($d: DateTime) { orders(filter: { createdBefore: $d }) { totalCount } }', { d: v }), expect: { coercion: true } },
  { coordinate: 'Query.order(id)', as: 'basic', maxLength: 200, request: (v) => query('query O($id: ID!) { order(id: $id) { id } }', { id: v }), expect: { notFound: true } },
  { coordinate: 'Query.customers(after)', as: 'admin', maxLength: 1_024, request: (v) => query('query C($c: String) { customers(first: 1, after: $c) { edges { node { id } } } }', { c: v }), expect: { validation: ['after'] } },
  { coordinate: 'Query.customers(before)', as: 'admin', maxLength: 1_024, request: (v) => query('query C($c: String) { customers(last: 1, before: $c) { edges { node { id } } } }', { c: v }), expect: { validation: ['before'] } },
  { coordinate: 'Customer.orders(after)', as: 'basic', maxLength: 1_024, request: (v) => query('query M($c: String) { me { orders(first: 1, after: $c) { edges { node { id } } } } }', { c: v }), expect: { validation: ['after'] } },
  { coordinate: 'Customer.orders(before)', as: 'basic', maxLength: 1_024, request: (v) => query('query M($c: String) { me { orders(last: 1, before: $c) { edges { node { id } } } } }', { c: v }), expect: { validation: ['before'] } },
  { coordinate: 'Query.node(id)', as: 'basic', maxLength: 200, request: (v) => query('query N($id: ID!) { node(id: $id) { id } }', { id: v }), expect: { notFound: true } },
  { coordinate: 'Query.nodes(ids)', as: 'basic', maxLength: 200, request: (v) => query('query N($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: [v] }), expect: { notFound: true } },
  {
    coordinate: 'Subscription.orderStatusChanged(orderId)',
    as: 'basic',
    maxLength: 200,
    request: (v) => query('subscription S($id: ID) { orderStatusChanged(orderId: $id) { version } }', { id: v }),
    expect: { notFound: true },
  },
  {
    coordinate: 'Subscription.orderStatusChanged(after)',
    as: 'basic',
    maxLength: 1_024,
    request: (v) => query('subscription S($c: String) { orderStatusChanged(after: $c) { version } }', { c: v }),
    expect: { validation: ['after'] },
  },
];

/** Every argument (and input field below one) whose values are strings: String, ID and DateTime. */
function stringArguments(schema: GraphQLSchema): string[] {
  const found: string[] = [];
  const walk = (type: GraphQLInputType, prefix: string, at: string, seen: Set<string>) => {
    const named = getNamedType(type);
    if (isInputObjectType(named)) {
      if (seen.has(named.name)) return;
      for (const field of Object.values(named.getFields())) walk(field.type, `${prefix}${field.name}.`, at, new Set([...seen, named.name]));
    } else if (['String', 'ID', 'DateTime'].includes(named.name)) {
      found.push(`${at}(${prefix.slice(0, -1)})`);
    }
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      for (const arg of field.args) walk(arg.type, `${arg.name}.`, `${type.name}.${field.name}`, new Set());
    }
  }
  return found.sort();
}

/** A digest of every row of every table: what a refused request must leave exactly as it was. */
async function contents(): Promise<Record<string, string>> {
  const connection = app.running.orm.em.fork().getConnection();
  const tables = await connection.execute<{ name: string }[]>("select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1");
  const digests: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await connection.execute<{ digest: string }[]>(`select count(*) || ':' || md5(coalesce(string_agg(t::text, ',' order by t::text), '')) as digest from "${name}" t`);
    digests[name] = String(row?.digest);
  }
  return digests;
}

interface Answer {
  readonly status: number;
  readonly body: { data?: Record<string, any> | null; errors?: { message: string; extensions?: Record<string, any> }[] };
}

async function send(as: Who, request: { query: string; variables: Record<string, unknown> }): Promise<Answer> {
  const token = await tokenOf(as);
  const subscription = request.query.startsWith('subscription');
  const reply = await postGraphQL(app.running.url, request, {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    // A subscription refused before it starts answers one result, whatever the transport.
    accept: subscription ? 'text/event-stream' : 'application/graphql-response+json',
  });
  if (!subscription) return { status: reply.status, body: JSON.parse(reply.text) as Answer['body'] };
  const data = /^data: (.+)$/m.exec(reply.text)?.[1];
  return { status: reply.status, body: data ? (JSON.parse(data) as Answer['body']) : { errors: [{ message: reply.text }] } };
}

/** The error code and field paths an answer carries, from a result union (mutations) or `errors` (queries). */
function outcome(answer: Answer): { code: string | undefined; paths: string[][]; empty: boolean } {
  const [root] = Object.values(answer.body.data ?? {});
  if (root && typeof root === 'object' && '__typename' in root && !String(root.__typename).endsWith('Success')) {
    return { code: root.code, paths: (root.fields ?? []).map((f: { path: string[] }) => f.path), empty: false };
  }
  const error = answer.body.errors?.[0];
  if (error) {
    const fields = (error.extensions?.['fields'] ?? []) as { path: string[] }[];
    return { code: error.extensions?.['code'], paths: fields.map((f) => f.path), empty: false };
  }
  // No error and nothing found: a null object, an empty page or list.
  const empty = root === null || (Array.isArray(root) && root.every((item) => item === null)) || (typeof root === 'object' && root !== null && 'edges' in root && root.edges.length === 0);
  return { code: undefined, paths: [], empty };
}

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.startsWith('{')) logLines.push(JSON.parse(line) as { level: number; msg?: string });
      done();
    },
  });
  app = await startTestApp({ app: { logger: createLogger('info', sink) } });
  const products = await send('anonymous', query('{ products(first: 1, filter: { inStock: true }, orderBy: { field: PRICE, direction: ASC }) { edges { node { id } } } }', {}));
  ids.product = products.body.data!['products'].edges[0].node.id;
  const placed = await send('basic', placeOrder({}));
  ids.order = placed.body.data!['placeOrder'].order.id;
  const another = await send('basic', placeOrder({}));
  ids.adminOrder = another.body.data!['placeOrder'].order.id;
  expect([ids.order, ids.adminOrder]).toEqual([expect.any(String), expect.any(String)]);
}, 120_000);
afterAll(() => app?.stop());

describe('string arguments', () => {
  it('has a probe for every String, ID and DateTime argument of the schema', () => {
    expect(PROBES.map((p) => p.coordinate).sort()).toEqual(stringArguments(app.running.schema));
  });

  const values: readonly [string, (probe: Probe) => string][] = [
    ['a NUL character', () => NUL],
    ['a control character (ESC)', () => 'ab\u001bcd'],
    ['an unpaired surrogate', () => 'ab\ud800cd'],
    ['one character over its documented maximum', (probe) => 'x'.repeat(probe.maxLength + 1)],
  ];

  for (const [what, valueOf] of values) {
    describe(`refuses ${what} with a typed answer and writes nothing`, () => {
      it.each(PROBES.map((probe) => [probe.coordinate, probe] as const))('%s', async (_coordinate, probe) => {
        const before = await contents();
        const errorsLogged = logLines.filter((line) => line.level >= 50).length;
        const answer = await send(probe.as, probe.request(valueOf(probe)));
        const got = outcome(answer);
        expect(JSON.stringify(answer.body)).not.toContain('INTERNAL_SERVER_ERROR');
        if ('validation' in probe.expect) {
          expect(got.code).toBe('VALIDATION_FAILED');
          expect(got.paths).toContainEqual(probe.expect.validation);
        } else if ('coercion' in probe.expect) {
          expect(answer.status).toBe(400);
          expect(got.code).toBe('BAD_USER_INPUT');
        } else if (got.code !== undefined) {
          // An id that cannot name anything: not found, or refused as malformed.
          expect(['NOT_FOUND', 'BAD_USER_INPUT', 'VALIDATION_FAILED']).toContain(got.code);
        } else {
          expect(got.empty).toBe(true);
        }
        expect(answer.status).toBeLessThan(500);
        expect(await contents()).toEqual(before);
        expect(logLines.filter((line) => line.level >= 50).slice(errorsLogged)).toEqual([]);
      });
    });
  }

  it.each(PROBES.map((probe) => [probe.coordinate, probe] as const))(
    'refuses %s over the request-wide string cap with BAD_USER_INPUT before running anything',
    async (_coordinate, probe) => {
      const before = await contents();
      const answer = await send(probe.as, probe.request('x'.repeat(GATE + 1)));
      // A subscription's answer is an event of its stream (200); everything else is refused with 400.
      if (!probe.coordinate.startsWith('Subscription.')) expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
      // No `data` at all: refused before execution started (GraphQL spec, "Response Format").
      expect('data' in answer.body).toBe(false);
      expect(await contents()).toEqual(before);
    },
  );

  it('refuses an over-long string literal in the document itself, as in a variable', async () => {
    const literals = [`"${'x'.repeat(GATE + 1)}"`, `"${'\\u0041'.repeat(GATE + 1)}"`, `"""${'x'.repeat(GATE + 1)}"""`];
    for (const literal of literals) {
      const answer = await send('anonymous', query(`{ products(filter: { search: ${literal} }) { totalCount } }`, {}));
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
      expect('data' in answer.body).toBe(false);
    }
    // The same characters in a comment are no string: the document runs.
    const commented = await send('anonymous', query(`# ${'x'.repeat(GATE + 1)}\n{ products(first: 1) { totalCount } }`, {}));
    expect(commented.body.errors).toBeUndefined();
  });

  it('refuses an over-long variable over graphql-ws too, before running anything', async () => {
    const client = app.wsClient();
    const answer = await new Promise<unknown>((resolve) => {
      client.subscribe(
        { query: 'query P($s: String) { products(filter: { search: $s }) { totalCount } }', variables: { s: 'x'.repeat(GATE + 1) } },
        { next: resolve, error: resolve, complete: () => resolve('completed without an answer') },
      );
    });
    expect(JSON.stringify(answer)).toContain('BAD_USER_INPUT');
    expect(JSON.stringify(answer)).not.toContain('totalCount');
  });

  it('still accepts every argument at its documented maximum length', async () => {
    const name = 'N'.repeat(200);
    const created = await send('admin', createProduct({ name, description: 'd\n'.repeat(1_000) }));
    expect(created.body.data!['createProduct'].__typename).toBe('CreateProductSuccess');
    const search = await send('anonymous', query('query P($s: String) { products(filter: { search: $s }) { totalCount } }', { s: name }));
    expect(search.body.errors).toBeUndefined();
    const key = 'k'.repeat(255);
    const placed = await send('basic', placeOrder({ idempotencyKey: key }));
    expect(placed.body.data!['placeOrder'].__typename).toBe('PlaceOrderSuccess');
    const adjusted = await send('admin', { query: mutation('adjustStock', 'AdjustStockInput'), variables: { input: { productId: ids.product, delta: 1, idempotencyKey: key } } });
    expect(adjusted.body.data!['adjustStock'].__typename).toBe('AdjustStockSuccess');
    const signedUp = await send('anonymous', { ...signUp({ idempotencyKey: key }), query: mutation('signUp', 'SignUpInput', '... on SignUpSuccess { auth { customer { id } } }') });
    expect(signedUp.body.data!['signUp'].__typename).toBe('SignUpSuccess');
    const customerId = signedUp.body.data!['signUp'].auth.customer.id;
    const tiered = await send('admin', { query: mutation('setCustomerTier', 'SetCustomerTierInput'), variables: { input: { customerId, tier: 'PREMIUM', idempotencyKey: key } } });
    expect(tiered.body.data!['setCustomerTier'].__typename).toBe('SetCustomerTierSuccess');
  });
});

describe('dates and cursors PostgreSQL cannot represent', () => {
  it.each([['0000-01-01T00:00:00Z'], ['0000-12-31T23:59:59.999Z']])('refuses filter.createdAfter %s (year 0) with VALIDATION_FAILED', async (date) => {
    const answer = await send('basic', query('query O($d: DateTime) { orders(filter: { createdAfter: $d, createdBefore: $d }) { totalCount } }', { d: date }));
    const got = outcome(answer);
    expect(got.code).toBe('VALIDATION_FAILED');
    expect(got.paths).toEqual([['filter', 'createdAfter'], ['filter', 'createdBefore']]);
  });

  const UUID = '00000000-0000-4000-8000-000000000000';
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  // Timestamps V8's Date.parse accepts and PostgreSQL's timestamptz does not, and other forged keys.
  const timestamps = ['1', '0', '-271821-04-20T00:00:00.000Z', '+275760-09-13T00:00:00.000Z', '0000-01-01T00:00:00.000Z', 'Tue, 01 Jan 2030 00:00:00 GMT', '2030-01-01', `2030-01-01T00:00:00.000Z${NUL}`];
  const forged = (kind: 'timestamp' | 'integer' | 'text'): string[] => [
    encode(1),
    encode(0),
    encode('-271821-04-20T00:00:00.000Z'),
    ...(kind === 'timestamp' ? timestamps.map((t) => encode([t, UUID])) : []),
    ...(kind === 'integer' ? [encode([1e300, UUID]), encode([-0.5, UUID]), encode(['1', UUID])] : []),
    ...(kind === 'text' ? [encode([NUL, UUID]), encode(['a\ud800', UUID]), encode(['x'.repeat(300), UUID])] : []),
    encode([kind === 'text' ? 'name' : kind === 'integer' ? 1 : '2030-01-01T00:00:00.000Z', `${UUID}${NUL}`]),
  ];
  const connections: readonly { name: string; as: Who; kind: 'timestamp' | 'integer' | 'text'; text: (arg: 'after' | 'before') => string }[] = [
    { name: 'products by NAME', as: 'anonymous', kind: 'text', text: (a) => `query P($c: String) { products(${a === 'after' ? 'first' : 'last'}: 2, ${a}: $c, orderBy: { field: NAME }) { edges { node { id } } } }` },
    { name: 'products by PRICE', as: 'anonymous', kind: 'integer', text: (a) => `query P($c: String) { products(${a === 'after' ? 'first' : 'last'}: 2, ${a}: $c, orderBy: { field: PRICE }) { edges { node { id } } } }` },
    { name: 'products by CREATED_AT', as: 'anonymous', kind: 'timestamp', text: (a) => `query P($c: String) { products(${a === 'after' ? 'first' : 'last'}: 2, ${a}: $c, orderBy: { field: CREATED_AT }) { edges { node { id } } } }` },
    { name: 'orders by CREATED_AT', as: 'basic', kind: 'timestamp', text: (a) => `query O($c: String) { orders(${a === 'after' ? 'first' : 'last'}: 2, ${a}: $c) { edges { node { id } } } }` },
    { name: 'orders by NUMBER', as: 'basic', kind: 'integer', text: (a) => `query O($c: String) { orders(${a === 'after' ? 'first' : 'last'}: 2, ${a}: $c, orderBy: { field: NUMBER }) { edges { node { id } } } }` },
    { name: 'orders by TOTAL', as: 'admin', kind: 'integer', text: (a) => `query O($c: String) { orders(${a === 'after' ? 'first' : 'last'}: 2, ${a}: $c, orderBy: { field: TOTAL }) { edges { node { id } } } }` },
    { name: 'customers', as: 'admin', kind: 'timestamp', text: (a) => `query C($c: String) { customers(${a === 'after' ? 'first' : 'last'}: 2, ${a}: $c) { edges { node { id } } } }` },
    { name: 'Customer.orders', as: 'basic', kind: 'timestamp', text: (a) => `query M($c: String) { me { orders(${a === 'after' ? 'first' : 'last'}: 2, ${a}: $c) { edges { node { id } } } } }` },
  ];
  const cases = connections.flatMap((connection) =>
    (['after', 'before'] as const).flatMap((argument) => forged(connection.kind).map((cursor) => [`${connection.name} ${argument} ${Buffer.from(cursor, 'base64url').toString('utf8').slice(0, 60)}`, connection, argument, cursor] as const)),
  );

  it.each(cases)('refuses %s with VALIDATION_FAILED at decode', async (_name, connection, argument, cursor) => {
    const answer = await send(connection.as, query(connection.text(argument), { c: cursor }));
    const got = outcome(answer);
    expect(JSON.stringify(answer.body)).not.toContain('INTERNAL_SERVER_ERROR');
    expect(got.code).toBe('VALIDATION_FAILED');
    expect(got.paths).toEqual([[argument]]);
  });
});
