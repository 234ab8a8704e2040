import { buildSchema, parse, type GraphQLSchema } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { eventTargetChangeFeed, inertChangeFeed } from '../platform/change-feed.ts';
import type { Viewer } from '../platform/op-context.ts';
import { createResponseCache, createTaggedCache, documentFacts, entityTag, globalIdOf, listTag, stableJson, tagsOf } from './response-cache.ts';

/** A clock the test moves by hand (ms). */
function manualClock() {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const ORDER_ID = '6f1c2b8e-0d4a-4c1e-9b7a-3e2f1d0c9b8a';
const PRODUCT_ID = '0b5e7c1d-2f3a-4b6c-8d9e-1a2b3c4d5e6f';

describe('the tagged cache', () => {
  it('does not store a result whose tag was invalidated after its request started (the race guard)', () => {
    const clock = manualClock();
    const cache = createTaggedCache({ maxEntries: 10, now: clock.now });
    const view = cache.forRequest({ startedAt: clock.now(), tags: [] });
    clock.advance(5);
    // The commit happened while the request was reading: its result may be older than the change.
    cache.invalidate([entityTag('Order', ORDER_ID)]);
    clock.advance(5);
    void view.set('k', { data: { order: { status: 'PAID' } } }, [{ typename: 'Order', id: globalIdOf('Order', ORDER_ID) }], 60_000);
    expect(cache.forRequest({ startedAt: clock.now(), tags: [] }).get('k')).toBeNull();
  });

  it('stores a result whose tags were invalidated only before its request started', () => {
    const clock = manualClock();
    const cache = createTaggedCache({ maxEntries: 10, now: clock.now });
    cache.invalidate([entityTag('Order', ORDER_ID)]);
    clock.advance(1);
    const view = cache.forRequest({ startedAt: clock.now(), tags: [] });
    void view.set('k', { data: { ok: true } }, [{ typename: 'Order', id: globalIdOf('Order', ORDER_ID) }], 60_000);
    expect(view.get('k')).toEqual({ data: { ok: true } });
  });

  it('skips a store after a clear that followed the request’s start, and guards list tags too', () => {
    const clock = manualClock();
    const cache = createTaggedCache({ maxEntries: 10, now: clock.now });
    const early = cache.forRequest({ startedAt: clock.now(), tags: ['ProductList'] });
    clock.advance(1);
    cache.invalidate(['ProductList']);
    void early.set('list', { data: { products: [] } }, [], 60_000);
    expect(early.get('list')).toBeNull();
    const before = cache.forRequest({ startedAt: clock.now() + 1, tags: [] });
    clock.advance(2);
    cache.clear();
    void before.set('any', { data: {} }, [], 60_000);
    expect(before.get('any')).toBeNull();
  });

  it('forgets an entry by the list tag its request added, and keeps only data', () => {
    const clock = manualClock();
    const cache = createTaggedCache({ maxEntries: 10, now: clock.now });
    clock.advance(1);
    const view = cache.forRequest({ startedAt: clock.now(), tags: [listTag('Order', 'customer:c1')] });
    void view.set('count', { data: { orders: { totalCount: 3 } }, extensions: { cost: { requested: 5 }, http: { headers: {} } } }, [], 60_000);
    expect(view.get('count')).toEqual({ data: { orders: { totalCount: 3 } } });
    cache.invalidate([listTag('Order', 'customer:c2')]);
    expect(view.get('count')).not.toBeNull();
    cache.invalidate(tagsOf({ kind: 'order', orderId: ORDER_ID, customerId: 'c1', stockMoved: [] }));
    expect(view.get('count')).toBeNull();
  });
});

describe('tags of committed changes', () => {
  it('names the order, its owner’s and the admins’ order lists, and the products whose stock moved', () => {
    expect(tagsOf({ kind: 'order', orderId: ORDER_ID, customerId: 'c1', stockMoved: [PRODUCT_ID] })).toEqual([
      entityTag('Order', ORDER_ID),
      'OrderList:customer:c1',
      'OrderList:admin',
      entityTag('Product', PRODUCT_ID),
      'ProductList',
    ]);
    expect(tagsOf({ kind: 'product', productId: PRODUCT_ID })).toEqual([entityTag('Product', PRODUCT_ID), 'ProductList']);
    // The library records ids as the schema shows them: Relay global ids.
    expect(entityTag('Product', PRODUCT_ID)).toBe(`Product:${Buffer.from(`Product:${PRODUCT_ID}`).toString('base64')}`);
  });

  it('names only the order for a payment write (a payment is reached through its order)', () => {
    expect(tagsOf({ kind: 'payment', orderId: ORDER_ID })).toEqual([entityTag('Order', ORDER_ID)]);
  });
});

describe('an answer holding a payment', () => {
  let status = 'SUCCEEDED';
  const schema = createSchema({
    typeDefs: 'type Payment { status: String! } type Order { id: ID! payment: Payment } type Query { order: Order }',
    resolvers: { Query: { order: () => ({ id: globalIdOf('Order', ORDER_ID), payment: { status } }) } },
  });
  const changes = eventTargetChangeFeed(new EventTarget());
  const responseCache = createResponseCache({ schema, ttlMs: 60_000, maxEntries: 100, verifyToken: async () => undefined, changes });
  const yoga = createYoga({ schema: schema as GraphQLSchema, plugins: [responseCache.plugin], context: () => ({ op: {} }) });
  const post = async (query: string) =>
    (await (await yoga.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })).json()) as {
      data?: { order: { payment: { status: string } } };
      extensions?: { responseCache?: { hit?: boolean } };
    };

  it('is cached, even without the order’s id selected, and forgotten when its order’s payment changes', async () => {
    const query = '{ order { payment { status } } }';
    expect((await post(query)).extensions?.responseCache?.hit).toBe(false);
    expect(await post(query)).toMatchObject({ data: { order: { payment: { status: 'SUCCEEDED' } } }, extensions: { responseCache: { hit: true } } });
    status = 'REFUNDED';
    changes.publish([{ kind: 'payment', orderId: ORDER_ID }]);
    expect(await post(query)).toMatchObject({ data: { order: { payment: { status: 'REFUNDED' } } }, extensions: { responseCache: { hit: false } } });
  });
});

describe('document facts', () => {
  const schema = buildSchema(`
    interface Node { id: ID! }
    type Product implements Node { id: ID! name: String! }
    type Order implements Node { id: ID! customer: Customer! }
    type Customer implements Node { id: ID! orders(first: Int): OrderConnection! }
    type OrderConnection { totalCount: Int! edges: [OrderEdge!]! }
    type OrderEdge { node: Order! }
    type ProductConnection { edges: [ProductEdge!]! }
    type ProductEdge { node: Product! }
    type Query { product(id: ID!): Product products: ProductConnection! orders: OrderConnection! me: Customer node(id: ID!): Node nodes(ids: [ID!]!): [Node]! }
    type Mutation { touch: Boolean }
  `);

  it('finds list types through connections (totalCount alone too) and fragments, and the ids asked for', () => {
    const facts = documentFacts(schema, parse('query Q($id: ID!) { ...F node(id: $id) { id } } fragment F on Query { me { orders { totalCount } } }'), 'Q');
    expect(facts).toMatchObject({ query: true, catalogOnly: false });
    expect([...facts.listedTypes]).toEqual(['Order']);
    expect(facts.idArguments).toHaveLength(1);
  });

  it('tells a catalog-only query, and refuses mutations', () => {
    expect(documentFacts(schema, parse('{ products { edges { node { name } } } product(id: "x") { id } __typename }'), undefined)).toMatchObject({ query: true, catalogOnly: true });
    expect(documentFacts(schema, parse('{ products { edges { node { name } } } me { id } }'), undefined).catalogOnly).toBe(false);
    expect(documentFacts(schema, parse('mutation { touch }'), undefined).query).toBe(false);
  });

  it('keys variables the same in any key order', () => {
    expect(stableJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(stableJson({ a: { c: null, d: [1, { e: 3, f: 2 }] }, b: 1 }));
  });
});

describe('the plugin in yoga', () => {
  const product = { id: 'UHJvZHVjdDox', name: 'Mug' };
  let stock = 5;
  const schema = createSchema({
    typeDefs: 'type Product { id: ID! name: String! stock: Int! } type Customer { id: ID! } type Query { products: [Product!]! me: Customer } type Mutation { bump: Int! }',
    resolvers: {
      Query: { products: () => [{ ...product, stock }], me: () => ({ id: 'Q3VzdG9tZXI6MQ==' }) },
      Mutation: { bump: () => (stock += 1) },
    },
  });
  const viewers: Record<string, Viewer> = { 'token-a': { kind: 'customer', customerId: 'a', role: 'CUSTOMER' }, 'token-b': { kind: 'customer', customerId: 'b', role: 'CUSTOMER' } };
  const responseCache = createResponseCache({ schema, ttlMs: 60_000, maxEntries: 100, verifyToken: async (token) => (viewers[token] ? { viewer: viewers[token]! } : undefined), changes: inertChangeFeed });
  // The context exists (it has `op`) only from the execute phase on, as in the app.
  const yoga = createYoga({ schema: schema as GraphQLSchema, plugins: [responseCache.plugin], context: () => ({ op: {} }) });
  const post = async (query: string, token?: string) =>
    (await (await yoga.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query }) })).json()) as {
      data?: Record<string, unknown>;
      extensions?: { responseCache?: { hit?: boolean } };
    };

  it('shares the catalog between viewers, keeps a customer’s own reads to that customer, and finds entries by lookup', async () => {
    const catalog = '{ products { id name stock } }';
    expect((await post(catalog, 'token-a')).extensions?.responseCache?.hit).toBe(false);
    expect((await post(catalog)).extensions?.responseCache?.hit).toBe(true);
    expect(await responseCache.lookup({ query: catalog }, { kind: 'customer', customerId: 'b', role: 'CUSTOMER' })).toEqual({ data: { products: [{ ...product, stock }] } });
    const mine = '{ me { id } }';
    await post(mine, 'token-a');
    expect((await post(mine, 'token-b')).extensions?.responseCache?.hit).toBe(false);
    expect(await responseCache.lookup({ query: mine }, viewers['token-a']!)).toEqual({ data: { me: { id: 'Q3VzdG9tZXI6MQ==' } } });
    expect(await responseCache.lookup({ query: mine }, { kind: 'anonymous' })).toBeUndefined();
  });

  it('runs the same mutation every time (the library alone would serve the second from the cache)', async () => {
    const first = await post('mutation { bump }');
    const second = await post('mutation { bump }');
    expect(second.data!.bump).toBe((first.data!.bump as number) + 1);
    expect(await responseCache.lookup({ query: 'mutation { bump }' }, { kind: 'anonymous' })).toBeUndefined();
  });
});
