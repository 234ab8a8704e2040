import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelOrderDocument,
  CustomersDocument,
  MeDocument,
  NodeDocument,
  NodesDocument,
  OrderDocument,
  OrderStatusChangedDocument,
  PlaceOrderDocument,
  ProductsDocument,
  SetCustomerTierDocument,
  SignUpDocument,
  UpdateOrderStatusDocument,
} from '../generated/operations.ts';
import { collect, startTestApp, type TestApp } from '../support/app.ts';
import { activeSubscriptions, untilActiveSubscriptions } from '../support/metrics.ts';

let app: TestApp;
let alice: { token: string; customerId: string; orderId: string };
let bob: { token: string; customerId: string; orderId: string };
const MISSING_ORDER = Buffer.from('Order:00000000-0000-4000-8000-000000000000').toString('base64');

async function customerWithOrder(email: string) {
  const signedUp = await app.execute(SignUpDocument, { input: { email, password: 'correct horse battery', name: email } }, {});
  if (signedUp.data!.signUp.__typename !== 'SignUpSuccess') throw new Error(JSON.stringify(signedUp));
  const { accessToken, customer } = signedUp.data!.signUp.auth;
  const products = await app.execute(ProductsDocument, { first: 1, filter: { search: 'PEN-GEL' } }, {});
  const placed = await app.execute(
    PlaceOrderDocument,
    { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId: products.data!.products.edges[0]!.node.id, quantity: 1 }] } },
    { token: accessToken },
  );
  if (placed.data!.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
  return { token: accessToken, customerId: customer.id, orderId: placed.data!.placeOrder.order.id };
}

beforeAll(async () => {
  app = await startTestApp();
  alice = await customerWithOrder(`alice-${crypto.randomUUID()}@example.com`);
  bob = await customerWithOrder(`bob-${crypto.randomUUID()}@example.com`);
});
afterAll(() => app?.stop());

describe("another customer's ids behave exactly like missing ones", () => {
  it('order(id) and node(id) are null for B’s order and for a missing id', async () => {
    for (const id of [bob.orderId, MISSING_ORDER]) {
      // Extensions (the response cache's metadata) aside: data only, no errors.
      const order = await app.execute(OrderDocument, { id }, { token: alice.token });
      expect({ ...order, extensions: undefined }).toEqual({ data: { order: null } });
      const node = await app.execute(NodeDocument, { id }, { token: alice.token });
      expect({ ...node, extensions: undefined }).toEqual({ data: { node: null } });
    }
    const own = await app.execute(OrderDocument, { id: alice.orderId }, { token: alice.token });
    expect(own.data!.order!.id).toBe(alice.orderId);
  });

  it('nodes([...]) nulls out B’s order and B’s customer, keeps A’s', async () => {
    const result = await app.execute(NodesDocument, { ids: [alice.orderId, bob.orderId, bob.customerId, alice.customerId, MISSING_ORDER] }, { token: alice.token });
    expect(result.data!.nodes).toEqual([{ __typename: 'Order', id: alice.orderId }, null, null, { __typename: 'Customer', id: alice.customerId }, null]);
  });

  it('cancelOrder on B’s order answers NOT_FOUND, the same as a missing id, and changes nothing', async () => {
    const theirs = await app.execute(CancelOrderDocument, { input: { orderId: bob.orderId } }, { token: alice.token });
    const missing = await app.execute(CancelOrderDocument, { input: { orderId: MISSING_ORDER } }, { token: alice.token });
    expect(theirs.data!.cancelOrder).toEqual(missing.data!.cancelOrder);
    expect(theirs.data!.cancelOrder).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    const still = await app.execute(OrderDocument, { id: bob.orderId }, { token: bob.token });
    expect(still.data!.order!.status).toBe('PAID');
  });

  it('subscribing to B’s order fails like subscribing to a missing one', async () => {
    const theirs = collect(app.wsClient(alice.token), OrderStatusChangedDocument, { orderId: bob.orderId, afterVersion: 0 });
    const missing = collect(app.wsClient(alice.token), OrderStatusChangedDocument, { orderId: MISSING_ORDER, afterVersion: 0 });
    await Promise.all([theirs.done, missing.done]);
    // graphql-js delivers a failed subscribe as one result with errors and no data, then completes.
    expect(theirs.events).toHaveLength(1);
    expect(theirs.events[0]!.data ?? null).toBeNull();
    expect(theirs.events[0]!.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(theirs.events).toEqual(missing.events);
    expect(theirs.errors).toEqual(missing.errors);
  });

  it('the all-orders subscription of A never carries B’s changes', async () => {
    const active = await activeSubscriptions(app.running.url);
    const stream = collect(app.wsClient(alice.token), OrderStatusChangedDocument, {});
    // An admin sees every change: once it has B's, B's was published before A's below, so on A's
    // stream it would have come first.
    const witness = collect(app.wsClient(await app.demoToken('admin')), OrderStatusChangedDocument, {});
    await untilActiveSubscriptions(app.running.url, active + 2);
    await app.execute(CancelOrderDocument, { input: { orderId: bob.orderId, reason: 'bob cancels' } }, { token: bob.token });
    const [bobs] = await witness.waitFor(1);
    expect(bobs!.data!.orderStatusChanged.order.id).toBe(bob.orderId);
    await app.execute(CancelOrderDocument, { input: { orderId: alice.orderId, reason: 'alice cancels' } }, { token: alice.token });
    const [only] = await stream.waitFor(1);
    expect(only!.data!.orderStatusChanged.order.id).toBe(alice.orderId);
    expect(stream.events).toHaveLength(1);
  });
});

describe('roles', () => {
  it('me is null when anonymous and the caller when signed in', async () => {
    expect((await app.execute(MeDocument, {}, {})).data!.me).toBeNull();
    expect((await app.execute(MeDocument, {}, { token: alice.token })).data!.me!.id).toBe(alice.customerId);
  });

  it('customers is for admins: FORBIDDEN for a customer, UNAUTHENTICATED anonymously', async () => {
    const asCustomer = await app.execute(CustomersDocument, { first: 5 }, { token: alice.token });
    expect(asCustomer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await app.execute(CustomersDocument, { first: 5 }, {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const asAdmin = await app.execute(CustomersDocument, { first: 5 }, { token: await app.demoToken('admin') });
    expect(asAdmin.data!.customers.totalCount).toBeGreaterThanOrEqual(6);
  });

  it('admin mutations refuse customers', async () => {
    const tier = await app.execute(SetCustomerTierDocument, { input: { customerId: alice.customerId, tier: 'ENTERPRISE' } }, { token: alice.token });
    expect(tier.data!.setCustomerTier).toMatchObject({ code: 'FORBIDDEN' });
    const ship = await app.execute(UpdateOrderStatusDocument, { input: { orderId: alice.orderId, status: 'SHIPPED', expectedVersion: 2 } }, { token: alice.token });
    expect(ship.data!.updateOrderStatus).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('rejects a forged or garbage bearer token with UNAUTHENTICATED instead of treating it as anonymous', async () => {
    const forged = `${alice.token.slice(0, -4)}AAAA`;
    for (const token of [forged, 'not-a-jwt']) {
      const result = await app.execute(MeDocument, {}, { token });
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(result.data ?? null).toBeNull();
    }
  });
});
