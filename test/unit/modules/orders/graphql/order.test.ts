import { encodeGlobalID } from '@pothos/plugin-relay';
import { graphql, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createBuilder } from '../../../../../src/graphql/builder.ts';
import { registerCommonTypes } from '../../../../../src/graphql/common.ts';
import type { GraphQLContext } from '../../../../../src/graphql/context.ts';
import { createOrdersApi } from '../../../../../src/modules/orders/application/api.ts';
import type { OrderStatusChange } from '../../../../../src/modules/orders/domain/order.ts';
import { registerOrdersGraphQL } from '../../../../../src/modules/orders/graphql/index.ts';
import type { Payment } from '../../../../../src/modules/payments/public.ts';
import type { OpContext } from '../../../../../src/platform/op-context.ts';
import { adminOp, customerOp, FakePaymentDeclinedError, seedOrder, setUpOrders } from '../../../../fakes/orders.ts';

const ALICE = crypto.randomUUID();
const BOB = crypto.randomUUID();
const BOB_ORDER_ID = crypto.randomUUID();

/** The orders schema over stand-ins for the other modules' types, and a count of payment loads. */
function buildSchema(): { schema: GraphQLSchema; paymentLoads: string[][] } {
  const builder = createBuilder();
  const common = registerCommonTypes(builder);
  const stub = (name: string) =>
    builder.loadableObject(name, {
      load: async (ids: string[]) => ids.map((id) => ({ id })),
      fields: (t) => ({ id: t.exposeID('id') }),
    });
  const Payment = builder.objectRef<Payment>('Payment').implement({ fields: (t) => ({ status: t.exposeString('status') }) });
  const PaymentDeclinedErrorRef = builder.objectType(FakePaymentDeclinedError, {
    name: 'PaymentDeclinedError',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof FakePaymentDeclinedError,
  });
  const paymentLoads: string[][] = [];
  registerOrdersGraphQL(
    builder,
    common,
    {
      Customer: stub('Customer'),
      Product: stub('Product'),
      Payment,
      paymentsByOrderId: async (orderIds) => {
        paymentLoads.push([...orderIds]);
        return orderIds.map(() => ({ status: 'SUCCEEDED' }) as Payment);
      },
      PaymentDeclinedError: FakePaymentDeclinedError,
      PaymentDeclinedErrorRef,
    },
    { currency: 'USD' },
  );
  return { schema: builder.toSchema(), paymentLoads };
}

/** Three orders of Alice's (two or three changes each) and one of Bob's, over the real use cases. */
function setUp(options: { readonly history?: (orderIds: readonly string[]) => OrderStatusChange[][] } = {}) {
  const { schema, paymentLoads } = buildSchema();
  const world = setUpOrders();
  const alice = [
    seedOrder(world.store, { customerId: ALICE, path: ['PAID'] }),
    seedOrder(world.store, { customerId: ALICE, path: ['PAID', 'SHIPPED'] }),
    seedOrder(world.store, { customerId: ALICE, path: ['PAID'] }),
  ];
  const bob = seedOrder(world.store, { customerId: BOB, id: BOB_ORDER_ID, path: ['PAID'] });
  const api = createOrdersApi(world.deps);
  const orders = options.history ? { ...api, getStatusHistory: async (_op: OpContext, ids: readonly string[]) => options.history!(ids) } : api;
  // A fresh context per operation, as the app builds them (DataLoaders are keyed by it). No
  // `payments` in it: Order.payment must go through the loader the payments module offers.
  const run = (op: OpContext, source: string, variableValues?: Record<string, unknown>) =>
    graphql({ schema, source, variableValues, contextValue: { op, orders } as unknown as GraphQLContext });
  return { store: world.store, alice, bob, run, paymentLoads };
}

const gid = (id: string) => encodeGlobalID('Order', id);

describe('OrderStatusChange.order', () => {
  it('loads the orders of every change of a page in one batch, through the Order loader', async () => {
    const { store, alice, run } = setUp();

    const result = await run(customerOp(ALICE), '{ orders(first: 10) { edges { node { id statusHistory { version order { id } } } } } }');

    expect(result.errors).toBeUndefined();
    const nodes = (result.data as { orders: { edges: { node: { id: string; statusHistory: { version: number; order: { id: string } }[] } }[] } }).orders.edges.map((e) => e.node);
    expect(nodes.map((n) => n.id).sort()).toEqual(alice.map((o) => gid(o.id)).sort());
    expect(nodes.flatMap((n) => n.statusHistory)).toHaveLength(7);
    for (const node of nodes) for (const change of node.statusHistory) expect(change.order.id).toBe(node.id);
    // One read for the seven changes (not one per change), of the three distinct ids.
    expect(store.idLookups).toHaveLength(1);
    expect([...store.idLookups[0]!].sort()).toEqual(alice.map((o) => o.id).sort());
  });

  it.each([
    ['another customer’s order', () => BOB_ORDER_ID],
    ['an order that does not exist', () => crypto.randomUUID()],
  ])('answers %s with a NOT_FOUND-coded error, not an uncoded null error', async (_what, target) => {
    // An audit trail pointing at an order Alice may not see, read by Alice.
    const orderId = target();
    const { alice, run } = setUp({
      history: (ids) => ids.map(() => [{ orderId, customerId: BOB, version: 1, from: null, to: 'PENDING', at: new Date(), actor: null, reason: null }]),
    });

    const result = await run(customerOp(ALICE), 'query($id: ID!) { order(id: $id) { statusHistory { order { id } } } }', { id: gid(alice[0]!.id) });

    expect(result.data).toEqual({ order: null });
    expect(result.errors?.map((e) => [e.path, e.extensions.code, e.message])).toEqual([[['order', 'statusHistory', 0, 'order'], 'NOT_FOUND', 'The order was not found']]);
  });
});

describe('null for what the viewer may not see', () => {
  it('node, nodes and order(id) answer null for an invisible or missing order, without an error', async () => {
    const { alice, bob, run } = setUp();
    const missing = crypto.randomUUID();

    const result = await run(
      customerOp(ALICE),
      'query($mine: ID!, $theirs: ID!, $missing: ID!) { theirs: node(id: $theirs) { id } gone: node(id: $missing) { id } nodes(ids: [$mine, $theirs, $missing]) { id } order(id: $theirs) { id } }',
      { mine: gid(alice[0]!.id), theirs: gid(bob.id), missing: gid(missing) },
    );

    expect(result).toEqual({ data: { theirs: null, gone: null, nodes: [{ id: gid(alice[0]!.id) }, null, null], order: null } });
  });
});

describe('Order.payment', () => {
  it("loads every order's payment in one call of the loader the payments module offers", async () => {
    const { store, run, paymentLoads } = setUp();

    const result = await run(adminOp(), '{ orders(first: 10) { edges { node { payment { status } } } } }');

    expect(result.errors).toBeUndefined();
    expect((result.data as { orders: { edges: unknown[] } }).orders.edges).toHaveLength(4);
    expect(paymentLoads).toHaveLength(1);
    expect([...paymentLoads[0]!].sort()).toEqual(store.allOrders().map((o) => o.id).sort());
  });
});
