import type { ObjectRef } from '@pothos/core';
import { dataloaderGetter } from '@pothos/plugin-dataloader';
import { NotFoundError } from '../../../platform/errors.ts';
import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import type { GraphQLContext } from '../../../graphql/context.ts';
import { toGraphQLError } from '../../../graphql/errors.ts';
import { requireGlobalId } from '../../../graphql/global-id.ts';
import { pageArgsOf, type SelectionInfo } from '../../../graphql/selection.ts';
import type { PageArgs } from '../../../platform/pagination.ts';
import type { Payment } from '../../payments/public.ts';
import type { Order, OrderLine } from '../domain/order.ts';
import { availableTransitions, type OrderStatus } from '../domain/status-machine.ts';
import type { OrderFilter, OrderOrder } from '../public.ts';
import type { OrderStatusRef } from './order-status.type.ts';

/** Registers OrderLine: one line of an order, priced in the store currency (ISO 4217 `currency`). */
export function registerOrderLine(
  builder: Builder,
  common: CommonRefs,
  // biome-ignore lint: another module's ref is opaque here
  Product: ObjectRef<any, any>,
  currency: string,
) {
  return builder.objectRef<OrderLine>('OrderLine').implement({
    description: 'One line of an order, with the unit price captured when the order was placed.',
    fields: (t) => ({
      // Through the Product loader: one read for every line of the operation.
      product: t.field({ type: Product, resolve: (line) => line.productId }),
      productName: t.exposeString('productName', { description: 'The product name when ordered.' }),
      quantity: t.exposeInt('quantity'),
      unitPrice: t.field({ type: common.Money, resolve: (line) => ({ minor: line.unitPriceMinor, currency }) }),
      lineTotal: t.field({ type: common.Money, resolve: (line) => ({ minor: line.lineTotalMinor, currency }) }),
    }),
  });
}

/**
 * The lines of the operation's orders behind `Order.lines`: one read per batch, for the operation
 * (a DataLoader on the context). placeOrder primes it with the lines it wrote, so its answer reads none.
 */
export const orderLinesLoader = dataloaderGetter<string, OrderLine[], string>(
  undefined,
  (orderIds, ctx) => (ctx as GraphQLContext).orders.getOrderLines((ctx as GraphQLContext).op, orderIds),
  undefined,
  false,
);

/** What Order's fields point at outside this file. */
export interface OrderTypeRefs {
  // biome-ignore lint: refs of other modules are opaque here
  readonly Customer: ObjectRef<any, any>;
  readonly Payment: ObjectRef<any, Payment>;
  /** The payments module's batch load of the payments of visible orders, in key order, null where none. */
  readonly paymentsByOrderId: (orderIds: readonly string[], ctx: GraphQLContext) => Promise<readonly (Payment | null)[]>;
  readonly OrderStatus: OrderStatusRef;
  readonly OrderLine: ReturnType<typeof registerOrderLine>;
}

/**
 * Registers Order as a Relay node loaded through a per-operation DataLoader, which `node`, `nodes`
 * and every field resolving an order id share. Its `statusHistory` is added by
 * order-status-change.type.ts.
 * @returns the Order ref; an order the viewer may not see loads as null, exactly like a missing id.
 */
export function registerOrder(builder: Builder, common: CommonRefs, refs: OrderTypeRefs) {
  return builder.loadableNode('Order', {
    id: { resolve: (order: Order) => order.id },
    // getOrders answers null for an invisible or missing id; `sort` keys the found ones by id again
    // and gives null for the rest, so `node`/`nodes` answer both with null, not an error.
    load: async (ids: string[], ctx) => (await ctx.orders.getOrders(ctx.op, ids)).filter((order) => order !== null),
    sort: (order: Order) => order.id,
    fields: (t) => ({
      number: t.exposeInt('number', { description: 'Sequential order number, for humans.' }),
      // Through the Customer loader; the owner of a visible order is always visible to the viewer.
      customer: t.field({ type: refs.Customer, resolve: (order) => order.customerId }),
      lines: t.field({ type: [refs.OrderLine], resolve: (order, _args, ctx) => orderLinesLoader(ctx).load(order.id) }),
      subtotal: t.field({ type: common.Money, resolve: (o) => ({ minor: o.subtotalMinor, currency: o.currency }) }),
      discountPercent: t.exposeInt('discountPercent', { description: 'Tier discount applied when the order was placed.' }),
      discount: t.field({ type: common.Money, resolve: (o) => ({ minor: o.discountMinor, currency: o.currency }) }),
      total: t.field({ type: common.Money, resolve: (o) => ({ minor: o.totalMinor, currency: o.currency }) }),
      status: t.field({ type: refs.OrderStatus, resolve: (o) => o.status }),
      availableTransitions: t.field({
        type: [refs.OrderStatus],
        description: 'Statuses the status machine allows next.',
        resolve: (o) => [...availableTransitions(o.status)],
      }),
      payment: t.loadable({
        type: refs.Payment,
        nullable: true,
        load: (orderIds: string[], ctx) => refs.paymentsByOrderId(orderIds, ctx),
        resolve: (order) => order.id,
      }),
      version: t.exposeInt('version', { description: 'Optimistic-lock version; pass it as expectedVersion.' }),
      idempotencyKey: t.exposeString('idempotencyKey'),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    }),
  });
}

/** The Order ref as {@link registerOrder} returns it. */
export type OrderRef = ReturnType<typeof registerOrder>;

/**
 * The order behind a non-null Order field, through the Order node's DataLoader, so that such fields
 * batch with each other and with `node`/`nodes` (one read per tick of the operation).
 * @throws GraphQLError with extensions.code NOT_FOUND when the viewer may not see the order or it
 * does not exist, rather than GraphQL's uncoded "Cannot return null for non-nullable field".
 */
export async function loadRequiredOrder(orderRef: OrderRef, ctx: GraphQLContext, orderId: string): Promise<Order> {
  // `sort` answers null for an id getOrders did not return, although DataLoader's type says Order.
  const order: Order | null = await orderRef.getDataloader(ctx).load(orderId);
  if (!order) throw toGraphQLError(new NotFoundError('order'));
  return order;
}

/** Adds `PaymentDeclinedError.order`: the order whose payment was declined. */
export function registerDeclinedPaymentOrder(
  builder: Builder,
  // biome-ignore lint: another module's ref is opaque here
  refs: { readonly Order: OrderRef; readonly PaymentDeclinedError: ObjectRef<any, { orderId: string }> },
): void {
  builder.objectField(refs.PaymentDeclinedError, 'order', (t) =>
    t.field({
      type: refs.Order,
      description: 'The order, now PAYMENT_FAILED with its stock released.',
      resolve: (error, _args, ctx) => loadRequiredOrder(refs.Order, ctx, error.orderId),
    }),
  );
}

/** The `filter` argument of `orders` as clients send it. */
interface OrderFilterArg {
  readonly status?: readonly OrderStatus[] | null;
  readonly customerId?: string | null;
  readonly createdAfter?: Date | null;
  readonly createdBefore?: Date | null;
}

/**
 * The use case's filter from the argument.
 * @throws GraphQLError BAD_USER_INPUT when `customerId` is not a Customer global id.
 */
function toOrderFilter(filter: OrderFilterArg | null | undefined): OrderFilter {
  if (!filter) return {};
  const customerId = filter.customerId != null ? requireGlobalId(String(filter.customerId), 'Customer') : undefined;
  return {
    ...(filter.status ? { statuses: filter.status } : {}),
    ...(customerId ? { customerId } : {}),
    ...(filter.createdAfter ? { createdAfter: filter.createdAfter } : {}),
    ...(filter.createdBefore ? { createdBefore: filter.createdBefore } : {}),
  };
}

/**
 * One page of orders through the listOrders use case; `orderBy.direction` defaults to DESC. The
 * page is counted by its own statement when the selection reads `totalCount`.
 */
async function orderPage(
  ctx: GraphQLContext,
  args: PageArgs & { readonly orderBy?: { readonly field: OrderOrder['field']; readonly direction?: OrderOrder['direction'] | null } | null },
  filter: OrderFilter,
  info: SelectionInfo,
) {
  const page = await ctx.orders.listOrders(ctx.op, {
    ...pageArgsOf(args, info),
    filter,
    ...(args.orderBy ? { orderBy: { field: args.orderBy.field, direction: args.orderBy.direction ?? 'DESC' } } : {}),
  });
  if (!page.ok) throw toGraphQLError(page.error);
  return page.value;
}

/** Registers the OrderOrder and OrderFilter inputs of order lists. */
function registerOrderListInputs(builder: Builder, common: CommonRefs, OrderStatus: OrderStatusRef) {
  const OrderOrderField = builder.enumType('OrderOrderField', { values: ['CREATED_AT', 'NUMBER', 'TOTAL'] as const });
  const OrderOrderInput = builder.inputType('OrderOrder', {
    fields: (t) => ({
      field: t.field({ type: OrderOrderField }),
      direction: t.field({ type: common.OrderDirection, defaultValue: 'DESC' }),
    }),
  });
  const OrderFilterInput = builder.inputType('OrderFilter', {
    fields: (t) => ({
      status: t.field({ type: [OrderStatus], required: false, description: 'Any of these statuses.' }),
      customerId: t.id({ required: false, description: 'Admins: one customer. Customers: ignored unless it is their own.' }),
      createdAfter: t.field({ type: 'DateTime', required: false, description: 'Inclusive.' }),
      createdBefore: t.field({ type: 'DateTime', required: false, description: 'Exclusive.' }),
    }),
  });
  return { OrderOrder: OrderOrderInput, OrderFilter: OrderFilterInput };
}

/** Registers the `order` and `orders` queries and `Customer.orders`. */
export function registerOrderQueries(
  builder: Builder,
  common: CommonRefs,
  // biome-ignore lint: another module's ref is opaque here
  refs: { readonly Order: OrderRef; readonly OrderStatus: OrderStatusRef; readonly Customer: ObjectRef<any, { id: string }> },
): void {
  const inputs = registerOrderListInputs(builder, common, refs.OrderStatus);

  builder.queryFields((t) => ({
    order: t.field({
      type: refs.Order,
      nullable: true,
      description: 'An order of yours (admins: any); anyone else gets null, exactly as for a missing id.',
      args: { id: t.arg.id() },
      resolve: async (_root, args, ctx) => {
        const [order] = await ctx.orders.getOrders(ctx.op, [requireGlobalId(String(args.id), 'Order')]);
        return order ?? null;
      },
    }),
    orders: t.connection({
      type: refs.Order,
      description: 'Your orders, newest first; admins see every order.',
      args: {
        filter: t.arg({ type: inputs.OrderFilter, required: false }),
        orderBy: t.arg({ type: inputs.OrderOrder, required: false }),
      },
      resolve: (_root, args, ctx, info) => orderPage(ctx, args, toOrderFilter(args.filter), info),
    }),
  }));

  // One listOrders per customer: a page per parent with its own cursor does not batch into one read.
  builder.objectField(refs.Customer, 'orders', (t) =>
    t.connection({
      type: refs.Order,
      description: "This customer's orders, newest first.",
      args: { orderBy: t.arg({ type: inputs.OrderOrder, required: false }) },
      resolve: (customer, args, ctx, info) => orderPage(ctx, args, { customerId: customer.id }, info),
    }),
  );
}
