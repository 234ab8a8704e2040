import { encodeGlobalID } from '@pothos/plugin-relay';
import { isObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_TYPES } from '../../src/graphql/global-id.ts';
import { createSchema } from '../../src/modules.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { postGraphQL } from './support.ts';

/**
 * Issue 10 item 6: a malformed global id is the client's mistake: BAD_USER_INPUT on queries and
 * subscriptions (never an error without a code, nor a masked INTERNAL_SERVER_ERROR from SQL);
 * mutations keep answering it as they answer a missing id. A well-formed id of nothing visible
 * is still exactly a missing one (null).
 */

let app: TestApp;
let admin: string;

beforeAll(async () => {
  app = await startTestApp();
  admin = await app.demoToken('admin');
});
afterAll(() => app?.stop());

const uuid = () => crypto.randomUUID();
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Ids no object of the expected type can have. */
const MALFORMED: readonly [string, string][] = [
  ['"Order:" with an empty id (T3JkZXI6)', 'T3JkZXI6'],
  ['not base64', 'zzz!'],
  ['base64 without a type', b64(uuid())],
  ['an id that is not a UUID', b64('Order:abc')],
  ['a type that does not exist', b64(`Foo:${uuid()}`)],
  ['a type that is not a node', b64(`Money:${uuid()}`)],
  ['empty', ''],
  ['very long', b64(`Order:${'a'.repeat(300)}`)],
];

type Body = { data?: Record<string, unknown> | null; errors?: { message: string; path?: unknown[]; extensions?: { code?: string } }[] };
const query = async (text: string, variables: Record<string, unknown>, token = admin): Promise<Body> =>
  JSON.parse((await postGraphQL(app.running.url, { query: text, variables }, { authorization: `Bearer ${token}` })).text) as Body;

describe('queries answer a malformed id with BAD_USER_INPUT', () => {
  const fields: readonly [string, string, (id: string) => Record<string, unknown>][] = [
    ['node', 'query($id: ID!) { node(id: $id) { id } }', (id) => ({ id })],
    ['nodes', 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', (id) => ({ ids: [encodeGlobalID('Order', uuid()), id] })],
    ['order', 'query($id: ID!) { order(id: $id) { id } }', (id) => ({ id })],
    ['product', 'query($id: ID!) { product(id: $id) { id } }', (id) => ({ id })],
    ['orders(filter.customerId)', 'query($id: ID) { orders(filter: { customerId: $id }) { totalCount } }', (id) => ({ id })],
  ];
  for (const [field, text, variables] of fields) {
    it.each(MALFORMED)(`${field}: %s`, async (_name, id) => {
      const body = await query(text, variables(id));
      expect(body.errors).toHaveLength(1);
      expect(body.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
      expect(body.errors![0]!.message).not.toMatch(/Unexpected error/);
    });
  }

  it('answers an id of another type given to a typed argument with BAD_USER_INPUT', async () => {
    const product = encodeGlobalID('Product', uuid());
    expect((await query('query($id: ID!) { order(id: $id) { id } }', { id: product })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await query('query($id: ID) { orders(filter: { customerId: $id }) { totalCount } }', { id: product })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('still answers a well-formed id of nothing visible with null, exactly like a missing one', async () => {
    const missing = encodeGlobalID('Order', uuid());
    // Extensions (the response cache's metadata) aside: data only, no errors.
    expect({ ...(await query('query($id: ID!) { node(id: $id) { id } order(id: $id) { id } }', { id: missing })), extensions: undefined }).toEqual({ data: { node: null, order: null } });
    expect({ ...(await query('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: [missing, encodeGlobalID('Product', uuid())] })), extensions: undefined }).toEqual({ data: { nodes: [null, null] } });
  });
});

describe('subscriptions answer a malformed id with BAD_USER_INPUT', () => {
  it.each(MALFORMED.slice(0, 4))('orderStatusChanged(orderId: %s)', async (_name, orderId) => {
    const client = app.wsClient(admin);
    const error = await new Promise<unknown>((resolve) => {
      client.subscribe({ query: 'subscription($id: ID) { orderStatusChanged(orderId: $id) { version } }', variables: { id: orderId } }, { next: resolve, error: resolve, complete: () => resolve('complete') });
    });
    expect(error).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
  });
});

describe('mutations answer a malformed id as they answer a missing one (errors as data)', () => {
  const mutations: readonly [string, string, (id: string) => Record<string, unknown>, string][] = [
    ['cancelOrder', 'mutation($id: ID!) { r: cancelOrder(input: { orderId: $id }) { __typename ... on Error { code } } }', (id) => ({ id }), 'NOT_FOUND'],
    ['updateOrderStatus', 'mutation($id: ID!) { r: updateOrderStatus(input: { orderId: $id, status: SHIPPED, expectedVersion: 2 }) { __typename ... on Error { code } } }', (id) => ({ id }), 'NOT_FOUND'],
    ['updateProduct', 'mutation($id: ID!) { r: updateProduct(input: { productId: $id, name: "x" }) { __typename ... on Error { code } } }', (id) => ({ id }), 'NOT_FOUND'],
    ['adjustStock', 'mutation($id: ID!) { r: adjustStock(input: { productId: $id, delta: 1 }) { __typename ... on Error { code } } }', (id) => ({ id }), 'NOT_FOUND'],
    ['setCustomerTier', 'mutation($id: ID!) { r: setCustomerTier(input: { customerId: $id, tier: PREMIUM }) { __typename ... on Error { code } } }', (id) => ({ id }), 'NOT_FOUND'],
    [
      'placeOrder',
      'mutation($id: ID!, $key: String!) { r: placeOrder(input: { idempotencyKey: $key, lines: [{ productId: $id, quantity: 1 }] }) { __typename ... on Error { code } } }',
      (id) => ({ id, key: uuid() }),
      'VALIDATION_FAILED',
    ],
  ];
  it.each(mutations)('%s', async (_name, text, variables, code) => {
    for (const [, id] of MALFORMED) {
      const body = await query(text, variables(id));
      expect(body.errors).toBeUndefined();
      expect(body.data!['r']).toMatchObject({ code });
    }
  });
});

it('NODE_TYPES lists exactly the types that implement Node', () => {
  const schema = createSchema({ currency: 'EUR' });
  const node = schema.getType('Node');
  const implementing = Object.values(schema.getTypeMap())
    .filter((type) => isObjectType(type) && type.getInterfaces().some((i) => i === node))
    .map((type) => type.name)
    .sort();
  expect([...NODE_TYPES].sort()).toEqual(implementing);
});
