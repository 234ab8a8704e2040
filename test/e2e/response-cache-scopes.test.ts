import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestApp, type TestApp } from '../support/app.ts';
import { eventually } from '../support/eventually.ts';

// Who gets which cached answer (issue 15, docs/adr/0015): a customer's entries only that customer,
// admins their own, the public catalog shared by every non-admin; mutations, subscriptions and
// graphql-ws operations are never cached; answers holding a payment are, in the order owner's
// scope only; RESPONSE_CACHE=false leaves responses as they were.

interface Answer<T = Record<string, unknown>> {
  readonly data?: T;
  readonly errors?: readonly { message: string; extensions?: { code?: string } }[];
  readonly extensions?: { readonly responseCache?: { readonly hit?: boolean; readonly didCache?: boolean } };
}

let app: TestApp;
const tokens: Record<'admin' | 'basic' | 'premium', string> = { admin: '', basic: '', premium: '' };
let productId = '';

async function gql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}, token?: string, url = app.running.url): Promise<Answer<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Answer<T>;
}

async function untilHit(query: string, variables: Record<string, unknown>, token: string | undefined): Promise<Answer> {
  return eventually(async () => {
    const answer = await gql(query, variables, token);
    expect(answer.extensions?.responseCache?.hit, JSON.stringify(answer)).toBe(true);
    return answer;
  }, { what: 'a cache hit' });
}

const PLACE = `mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename ... on PlaceOrderSuccess { order { id } } } }`;
const ADJUST = `mutation Adjust($input: AdjustStockInput!) { adjustStock(input: $input) { __typename ... on AdjustStockSuccess { product { id stock } } } }`;

/** Every query path that can reach an order, each reading the order's id and its owner. */
const PATHS: Record<string, string> = {
  order: 'query($id: ID!) { order(id: $id) { id status customer { id } } }',
  node: 'query($id: ID!) { node(id: $id) { __typename ... on Order { id status customer { id } } } }',
  nodes: 'query($id: ID!) { nodes(ids: [$id]) { __typename ... on Order { id customer { id } } } }',
  orders: 'query { orders(first: 100) { totalCount edges { node { id customer { id } } } } }',
  meOrders: 'query { me { id orders(first: 100) { totalCount edges { node { id } } } } }',
  customers: 'query { customers(first: 20) { edges { node { id email orders(first: 20) { edges { node { id } } } } } } }',
};

beforeAll(async () => {
  app = await startTestApp();
  for (const who of ['admin', 'basic', 'premium'] as const) tokens[who] = await app.demoToken(who);
  const products = await gql<{ products: { edges: { node: { id: string; stock: number } }[] } }>('query { products(first: 100) { edges { node { id stock } } } }');
  productId = products.data!.products.edges.find((e) => e.node.stock > 100)!.node.id;
});
afterAll(() => app?.stop());

describe('response cache scopes: no viewer ever gets another viewer’s cached answer', () => {
  it('keeps customer A’s order from B, anonymous callers and (as A’s entry) admins on every cached path, after A warmed them', async () => {
    const placed = await gql<{ placeOrder: { order: { id: string } } }>(PLACE, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } }, tokens.basic);
    const orderId = placed.data!.placeOrder.order.id;
    const ownerId = (await gql<{ me: { id: string } }>('query { me { id } }', {}, tokens.basic)).data!.me.id;
    for (const [path, query] of Object.entries(PATHS)) {
      // A warms the path (customers is admin-only: an error, never cached).
      if (path === 'customers') expect((await gql(query, { id: orderId }, tokens.basic)).errors).toBeDefined();
      else expect(JSON.stringify((await untilHit(query, { id: orderId }, tokens.basic)).data), path).toContain(orderId);
      for (const [who, token] of [['B', tokens.premium], ['anonymous', undefined]] as const) {
        for (let i = 0; i < 2; i += 1) {
          const answer = JSON.stringify(await gql(query, { id: orderId }, token));
          expect(answer, `${who} on ${path}`).not.toContain(orderId);
          expect(answer, `${who} on ${path}`).not.toContain(ownerId);
        }
      }
      const admin = await gql(query, { id: orderId }, tokens.admin);
      expect(admin.extensions?.responseCache?.hit, `admin's first read of ${path}: ${JSON.stringify(admin)}`).toBe(false);
      if (path !== 'meOrders') expect(JSON.stringify(admin.data), `admin on ${path}`).toContain(orderId);
    }
  });

  it('forgets a customer’s answers when an admin changes the tier (customers publish their writes)', async () => {
    const ME = 'query { me { id tier discountPercent } }';
    const SET_TIER = 'mutation($input: SetCustomerTierInput!) { setCustomerTier(input: $input) { __typename } }';
    const me = (await untilHit(ME, {}, tokens.basic)) as Answer<{ me: { id: string; tier: string } }>;
    expect(me.data!.me.tier).toBe('BASIC');
    const set = await gql<{ setCustomerTier: { __typename: string } }>(SET_TIER, { input: { customerId: me.data!.me.id, tier: 'ENTERPRISE' } }, tokens.admin);
    expect(set.data?.setCustomerTier.__typename, JSON.stringify(set)).toBe('SetCustomerTierSuccess');
    try {
      expect((await gql<{ me: { tier: string } }>(ME, {}, tokens.basic)).data!.me.tier).toBe('ENTERPRISE');
    } finally {
      await gql(SET_TIER, { input: { customerId: me.data!.me.id, tier: 'BASIC' } }, tokens.admin);
    }
  });

  it('never caches mutations: the same adjustStock twice adjusts twice', async () => {
    const input = { productId, delta: 1 };
    const first = await gql<{ adjustStock: { product: { stock: number } } }>(ADJUST, { input }, tokens.admin);
    const second = await gql<{ adjustStock: { product: { stock: number } } }>(ADJUST, { input }, tokens.admin);
    expect(second.data!.adjustStock.product.stock).toBe(first.data!.adjustStock.product.stock + 1);
    expect(first.extensions?.responseCache).toBeUndefined();
    expect(second.extensions?.responseCache).toBeUndefined();
  });

  it('never caches subscriptions nor queries over graphql-ws', async () => {
    const placed = await gql<{ placeOrder: { order: { id: string } } }>(PLACE, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } }, tokens.basic);
    const orderId = placed.data!.placeOrder.order.id;
    const client = app.wsClient(tokens.basic);
    const subscription = parse('subscription($id: ID!) { orderStatusChanged(orderId: $id, snapshot: true) { version to snapshot } }') as TypedDocumentNode<Record<string, unknown>, { id: string }>;
    const query = parse('query($id: ID!) { order(id: $id) { id status } }') as TypedDocumentNode<Record<string, unknown>, { id: string }>;
    for (let i = 0; i < 2; i += 1) {
      const events = collect(client, subscription, { id: orderId });
      const [snapshot] = await events.waitFor(1);
      events.unsubscribe();
      expect(snapshot!.data).toMatchObject({ orderStatusChanged: { snapshot: true } });
      expect(snapshot!.extensions?.responseCache).toBeUndefined();
      const read = collect(client, query, { id: orderId });
      const [answer] = await read.waitFor(1);
      expect(answer!.data).toMatchObject({ order: { id: orderId } });
      expect(answer!.extensions?.responseCache).toBeUndefined();
    }
  });

  it('caches an answer holding a Payment for its order’s owner, and never gives it to another customer', async () => {
    const placed = await gql<{ placeOrder: { order: { id: string } } }>(PLACE, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } }, tokens.basic);
    const orderId = placed.data!.placeOrder.order.id;
    const query = 'query($id: ID!) { order(id: $id) { id payment { status providerReference } } }';
    const owned = await untilHit(query, { id: orderId }, tokens.basic);
    expect(owned.data).toMatchObject({ order: { id: orderId, payment: { status: 'SUCCEEDED' } } });
    // Another customer gets (and then has cached) an answer of their own: no such order.
    for (let i = 0; i < 2; i += 1) {
      const other = await gql(query, { id: orderId }, tokens.premium);
      expect(other.data, JSON.stringify(other)).toEqual({ order: null });
    }
  });

  it('caches no answer with errors, and stores no other plugin’s extensions in an entry', async () => {
    const bad = 'query($id: ID!) { order(id: $id) { id } }';
    for (let i = 0; i < 2; i += 1) {
      const answer = await gql(bad, { id: 'not-an-id' }, tokens.basic);
      expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(answer.extensions?.responseCache).toMatchObject({ hit: false, didCache: false });
    }
    const hit = await untilHit('query { products(first: 3) { edges { node { id } } } }', {}, undefined);
    expect(Object.keys(hit.extensions ?? {}).filter((key) => key === 'http' || key === 'responseCache')).toEqual(['responseCache']);
  });
});

describe('RESPONSE_CACHE=false', () => {
  let off: TestApp;
  beforeAll(async () => {
    off = await startTestApp({ env: { RESPONSE_CACHE: 'false', SEED_DEMO_DATA: 'true' } });
  });
  afterAll(() => off?.stop());

  it('answers without extensions.responseCache', async () => {
    for (let i = 0; i < 2; i += 1) {
      const answer = await gql('query { products(first: 3) { edges { node { id } } } }', {}, undefined, off.running.url);
      expect(answer.data).toBeDefined();
      expect(answer.extensions?.responseCache).toBeUndefined();
    }
  });
});
