import {
  parse,
  getNamedType,
  isInputObjectType,
  type GraphQLArgument,
  type GraphQLInputField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaceOrderDocument, ProductsDocument, SignUpDocument } from '../generated/operations.ts';
import { collect, startTestApp, type TestApp } from '../support/app.ts';
import { postGraphQL } from './support.ts';

/**
 * IDOR sweep: every field and argument of the schema that takes an id, called as customer A
 * with customer B's ids. The answer must be exactly the answer for an id that does not exist,
 * and no reply to A may carry anything of B's. The list of id-taking coordinates is read from
 * the schema, so a new one fails this test until it has a probe.
 */

interface Person {
  readonly token: string;
  readonly email: string;
  readonly customerId: string;
  readonly orderId: string;
}
let app: TestApp;
let alice: Person;
let bob: Person;
let productId: string;
const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');
const MISSING_ORDER = gid('Order', '00000000-0000-4000-8000-000000000000');
const MISSING_CUSTOMER = gid('Customer', '00000000-0000-4000-8000-000000000001');
const MISSING_PRODUCT = gid('Product', '00000000-0000-4000-8000-000000000002');
const replies: string[] = [];
let probes = 0;

async function person(label: string): Promise<Person> {
  const email = `${label}-${crypto.randomUUID()}@example.com`;
  const signedUp = await app.execute(SignUpDocument, { input: { email, password: 'correct horse battery', name: label } }, {});
  if (signedUp.data?.signUp.__typename !== 'SignUpSuccess') throw new Error(JSON.stringify(signedUp));
  const { accessToken: token, customer } = signedUp.data.signUp.auth;
  const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } }, { token });
  if (placed.data?.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
  return { token, email, customerId: customer.id, orderId: placed.data.placeOrder.order.id };
}

/** One request as `token`; the reply text is kept for the leak check. */
async function as(token: string, query: string, variables: Record<string, unknown> = {}): Promise<unknown> {
  const reply = await postGraphQL(app.running.url, { query, variables }, { authorization: `Bearer ${token}` });
  replies.push(reply.text);
  probes += 1;
  // The response cache's metadata (hit or not) is no part of the answer being compared.
  const { extensions, ...body } = JSON.parse(reply.text) as { extensions?: Record<string, unknown> };
  const { responseCache: _, ...others } = extensions ?? {};
  return { status: reply.status, body: Object.keys(others).length > 0 ? { ...body, extensions: others } : body };
}

/** The same probe with B's id and with a missing one: the answers must be equal. */
async function sameAsMissing(theirs: () => Promise<unknown>, missing: () => Promise<unknown>): Promise<unknown> {
  const [a, b] = [await theirs(), await missing()];
  expect(a).toEqual(b);
  return a;
}

beforeAll(async () => {
  app = await startTestApp();
  const products = await app.execute(ProductsDocument, { first: 1, filter: { search: 'SOCK-3PK' } }, {});
  productId = products.data!.products.edges[0]!.node.id;
  alice = await person('alice');
  bob = await person('bob');
});
afterAll(() => app?.stop());

/** Probes by schema coordinate (`Type.field(argument path)`). */
const sweep: Record<string, () => Promise<void>> = {
  'Query.node(id)': async () => {
    for (const [theirs, missing] of [[bob.orderId, MISSING_ORDER], [bob.customerId, MISSING_CUSTOMER]] as const) {
      const query = 'query($id: ID!) { node(id: $id) { __typename id ... on Order { status } ... on Customer { email orders { totalCount } } } }';
      expect(await sameAsMissing(() => as(alice.token, query, { id: theirs }), () => as(alice.token, query, { id: missing }))).toEqual({ status: 200, body: { data: { node: null } } });
    }
  },
  'Query.nodes(ids)': async () => {
    const query = 'query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }';
    const answer = await sameAsMissing(() => as(alice.token, query, { ids: [bob.orderId, bob.customerId] }), () => as(alice.token, query, { ids: [MISSING_ORDER, MISSING_CUSTOMER] }));
    expect(answer).toEqual({ status: 200, body: { data: { nodes: [null, null] } } });
  },
  'Query.order(id)': async () => {
    const query = 'query($id: ID!) { order(id: $id) { id status customer { email } } }';
    expect(await sameAsMissing(() => as(alice.token, query, { id: bob.orderId }), () => as(alice.token, query, { id: MISSING_ORDER }))).toEqual({ status: 200, body: { data: { order: null } } });
  },
  'Query.orders(filter.customerId)': async () => {
    // Someone else's customer id filters a customer's own orders down to none, as a missing id does.
    const query = 'query($customerId: ID) { orders(filter: { customerId: $customerId }) { totalCount edges { node { id } } } }';
    const answer = await sameAsMissing(() => as(alice.token, query, { customerId: bob.customerId }), () => as(alice.token, query, { customerId: MISSING_CUSTOMER }));
    expect(answer).toEqual({ status: 200, body: { data: { orders: { totalCount: 0, edges: [] } } } });
  },
  'Customer.orders (reached through node)': async () => {
    const query = 'query($id: ID!) { node(id: $id) { ... on Customer { orders(first: 5) { totalCount edges { node { id } } } } } }';
    expect(await sameAsMissing(() => as(alice.token, query, { id: bob.customerId }), () => as(alice.token, query, { id: MISSING_CUSTOMER }))).toEqual({ status: 200, body: { data: { node: null } } });
  },
  'Query.product(id)': async () => {
    // The catalog belongs to no customer: a product reads the same for everyone; only its absence is checked.
    expect(await as(alice.token, 'query($id: ID!) { product(id: $id) { id } }', { id: MISSING_PRODUCT })).toEqual({ status: 200, body: { data: { product: null } } });
  },
  'Mutation.cancelOrder(input.orderId)': async () => {
    const query = 'mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { __typename ... on Error { code message } } }';
    const answer = await sameAsMissing(() => as(alice.token, query, { id: bob.orderId }), () => as(alice.token, query, { id: MISSING_ORDER }));
    expect(answer).toMatchObject({ body: { data: { cancelOrder: { __typename: 'NotFoundError', code: 'NOT_FOUND' } } } });
    const still = (await as(bob.token, 'query($id: ID!) { order(id: $id) { status } }', { id: bob.orderId })) as { body: { data: { order: { status: string } } } };
    expect(still.body.data.order.status).toBe('PAID');
  },
  'Mutation.updateOrderStatus(input.orderId)': async () => {
    const query = 'mutation($id: ID!) { updateOrderStatus(input: { orderId: $id, status: SHIPPED, expectedVersion: 2 }) { __typename ... on Error { code } } }';
    const answer = await sameAsMissing(() => as(alice.token, query, { id: bob.orderId }), () => as(alice.token, query, { id: MISSING_ORDER }));
    expect(answer).toMatchObject({ body: { data: { updateOrderStatus: { code: 'FORBIDDEN' } } } });
  },
  'Mutation.setCustomerTier(input.customerId)': async () => {
    const query = 'mutation($id: ID!) { setCustomerTier(input: { customerId: $id, tier: ENTERPRISE }) { __typename ... on Error { code } } }';
    const answer = await sameAsMissing(() => as(alice.token, query, { id: bob.customerId }), () => as(alice.token, query, { id: MISSING_CUSTOMER }));
    expect(answer).toMatchObject({ body: { data: { setCustomerTier: { code: 'FORBIDDEN' } } } });
  },
  'Mutation.placeOrder(input.lines.productId)': async () => {
    // Products are public; an unknown product id is refused without placing anything.
    const query = 'mutation($id: ID!) { placeOrder(input: { idempotencyKey: "idor-probe", lines: [{ productId: $id, quantity: 1 }] }) { __typename ... on Error { code } } }';
    const answer = (await as(alice.token, query, { id: MISSING_PRODUCT })) as { body: { data: { placeOrder: { __typename: string } } } };
    expect(answer.body.data.placeOrder.__typename).not.toBe('PlaceOrderSuccess');
  },
  'Mutation.updateProduct(input.productId)': async () => {
    const query = 'mutation($id: ID!) { updateProduct(input: { productId: $id, name: "mine now" }) { __typename ... on Error { code } } }';
    const answer = await sameAsMissing(() => as(alice.token, query, { id: productId }), () => as(alice.token, query, { id: MISSING_PRODUCT }));
    expect(answer).toMatchObject({ body: { data: { updateProduct: { code: 'FORBIDDEN' } } } });
  },
  'Mutation.adjustStock(input.productId)': async () => {
    const query = 'mutation($id: ID!) { adjustStock(input: { productId: $id, delta: 5 }) { __typename ... on Error { code } } }';
    const answer = await sameAsMissing(() => as(alice.token, query, { id: productId }), () => as(alice.token, query, { id: MISSING_PRODUCT }));
    expect(answer).toMatchObject({ body: { data: { adjustStock: { code: 'FORBIDDEN' } } } });
  },
  'Subscription.orderStatusChanged(orderId)': async () => {
    const query = 'subscription($orderId: ID, $afterVersion: Int) { orderStatusChanged(orderId: $orderId, afterVersion: $afterVersion) { version to order { id } } }';
    // graphql-ws
    const outcome = async (orderId: string) => {
      const stream = collect(app.wsClient(alice.token), parse(query) as never, { orderId, afterVersion: 0 });
      await stream.done;
      probes += 1;
      replies.push(JSON.stringify(stream.events), JSON.stringify(stream.errors));
      return { events: stream.events, errors: stream.errors };
    };
    const ws = await sameAsMissing(() => outcome(bob.orderId), () => outcome(MISSING_ORDER));
    expect(JSON.stringify(ws)).toContain('NOT_FOUND');
    // Server-Sent Events
    const sse = async (orderId: string) => {
      const response = await fetch(app.running.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${alice.token}` },
        body: JSON.stringify({ query, variables: { orderId, afterVersion: 0 } }),
      });
      const text = await response.text();
      probes += 1;
      replies.push(text);
      return [response.status, text];
    };
    const viaSse = await sameAsMissing(() => sse(bob.orderId), () => sse(MISSING_ORDER));
    expect(JSON.stringify(viaSse)).toContain('NOT_FOUND');
  },
};

/** Every `Type.field(argument path)` of the root types whose argument (or input field inside it) is an ID. */
function idCoordinates(): string[] {
  const found: string[] = [];
  const walk = (owner: string, path: string, type: GraphQLInputType, seen: Set<string>) => {
    const named = getNamedType(type);
    if (named.name === 'ID') found.push(`${owner}(${path})`);
    else if (isInputObjectType(named) && !seen.has(named.name)) {
      for (const field of Object.values(named.getFields()) as GraphQLInputField[]) walk(owner, `${path}.${field.name}`, field.type, new Set([...seen, named.name]));
    }
  };
  const schema = app.running.schema;
  for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()] as GraphQLObjectType[]) {
    for (const field of Object.values(root.getFields())) {
      for (const arg of field.args as GraphQLArgument[]) walk(`${root.name}.${field.name}`, arg.name, arg.type, new Set());
    }
  }
  return found.sort();
}

describe('IDOR sweep: customer A with customer B’s ids', () => {
  it('has a probe for every id-taking argument of the schema', () => {
    const probed = Object.keys(sweep).filter((c) => !c.includes(' '));
    expect(idCoordinates()).toEqual([...probed].sort());
  });

  it.each(Object.keys(sweep))('%s: answers as for a missing id', async (coordinate) => {
    await sweep[coordinate]!();
  });

  it('leaked nothing of B’s to A in any reply', async () => {
    const bobsMarks = [bob.orderId, bob.customerId, bob.email, Buffer.from(bob.orderId, 'base64').toString().split(':')[1]!, Buffer.from(bob.customerId, 'base64').toString().split(':')[1]!];
    const leaks = replies.filter((reply) => bobsMarks.some((mark) => reply.includes(mark)));
    console.info(`IDOR probes: ${probes} requests over ${Object.keys(sweep).length} coordinates; leaks: ${leaks.length}`);
    expect(leaks).toEqual([]);
  });
});
