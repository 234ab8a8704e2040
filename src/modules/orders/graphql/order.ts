import { clearAllDataLoaders } from '@pothos/plugin-dataloader';
import type { ObjectRef } from '@pothos/core';
import { ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError, type AppError } from '../../../platform/errors.ts';
import { unwrap } from '../../../platform/result.ts';
import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import { toGraphQLError } from '../../../graphql/errors.ts';
import { parseGlobalId, requireGlobalId } from '../../../graphql/global-id.ts';
import { IdempotencyKeyReusedError, IllegalTransitionError, OutOfStockError, VersionConflictError } from '../domain/errors.ts';
import type { Order, OrderLine, OrderStatusChange } from '../domain/order.ts';
import type { OrderFilter } from '../application/ports.ts';
import type { GraphQLContext } from '../../../graphql/context.ts';
import type { PageArgs as ConnectionArgs } from '../../../platform/pagination.ts';

type OrderOrderArg = { field: 'CREATED_AT' | 'NUMBER' | 'TOTAL'; direction?: 'ASC' | 'DESC' | null };
import { ORDER_STATUSES, availableTransitions } from '../domain/status-machine.ts';

/** Refs of other modules' types that order fields point at. */
export interface OrdersGraphQLDeps {
  // biome-ignore lint: refs of other modules are opaque here
  readonly Customer: ObjectRef<any, any>;
  readonly Product: ObjectRef<any, any>;
  readonly Payment: ObjectRef<any, any>;
  /** Error class of a declined payment (payments module); must carry `orderId`. */
  readonly PaymentDeclinedError: new (...args: any[]) => AppError & { orderId: string };
  readonly PaymentDeclinedErrorRef: ObjectRef<any, any>;
}

/**
 * Registers Order (a Relay node) with its lines, history and payment, `Customer.orders`, the
 * `order`/`orders` queries, the placeOrder/cancelOrder/updateOrderStatus mutations and the
 * `orderStatusChanged` subscription.
 */
export function registerOrdersGraphQL(builder: Builder, common: CommonRefs, refs: OrdersGraphQLDeps, options: { currency: string }) {
  const { currency } = options;
  const OrderStatusEnum = builder.enumType('OrderStatus', { values: ORDER_STATUSES });

  const OrderLineRef = builder.objectRef<OrderLine>('OrderLine').implement({
    description: 'One line of an order, with the unit price captured when the order was placed.',
    fields: (t) => ({
      product: t.field({ type: refs.Product, resolve: (line) => line.productId }),
      productName: t.exposeString('productName', { description: 'The product name when ordered.' }),
      quantity: t.exposeInt('quantity'),
      unitPrice: t.field({ type: common.Money, resolve: (line) => ({ minor: line.unitPriceMinor, currency }) }),
      lineTotal: t.field({ type: common.Money, resolve: (line) => ({ minor: line.lineTotalMinor, currency }) }),
    }),
  });

  const OrderStatusChangeRef = builder.objectRef<OrderStatusChange>('OrderStatusChange');

  const OrderRef = builder.loadableNode('Order', {
    id: { resolve: (order: Order) => order.id },
    // Invisible orders load as null: `node`/`nodes` answer exactly as for a missing id.
    load: (ids: string[], ctx) => ctx.orders.getOrders(ctx.op, ids) as Promise<Order[]>,
    fields: (t) => ({
      number: t.exposeInt('number', { description: 'Sequential order number, for humans.' }),
      customer: t.field({ type: refs.Customer, resolve: (order) => order.customerId }),
      lines: t.loadableList({
        type: OrderLineRef,
        load: (orderIds: string[], ctx) => ctx.orders.getOrderLines(ctx.op, orderIds),
        resolve: (order) => order.id,
      }),
      subtotal: t.field({ type: common.Money, resolve: (o) => ({ minor: o.subtotalMinor, currency: o.currency }) }),
      discountPercent: t.exposeInt('discountPercent', { description: 'Tier discount applied when the order was placed.' }),
      discount: t.field({ type: common.Money, resolve: (o) => ({ minor: o.discountMinor, currency: o.currency }) }),
      total: t.field({ type: common.Money, resolve: (o) => ({ minor: o.totalMinor, currency: o.currency }) }),
      status: t.field({ type: OrderStatusEnum, resolve: (o) => o.status }),
      availableTransitions: t.field({
        type: [OrderStatusEnum],
        description: 'Statuses the status machine allows next.',
        resolve: (o) => [...availableTransitions(o.status)],
      }),
      payment: t.loadable({
        type: refs.Payment,
        nullable: true,
        load: (orderIds: string[], ctx) => ctx.payments.getPaymentsByOrderIds(ctx.op, orderIds),
        resolve: (order) => order.id,
      }),
      statusHistory: t.loadableList({
        type: OrderStatusChangeRef,
        description: 'The audit trail, oldest first.',
        load: (orderIds: string[], ctx) => ctx.orders.getStatusHistory(ctx.op, orderIds),
        resolve: (order) => order.id,
      }),
      version: t.exposeInt('version', { description: 'Optimistic-lock version; pass it as expectedVersion.' }),
      idempotencyKey: t.exposeString('idempotencyKey'),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    }),
  });

  OrderStatusChangeRef.implement({
    description: 'One status change of an order: an entry of its audit trail and a subscription event.',
    fields: (t) => ({
      order: t.field({
        type: OrderRef,
        resolve: async (change, _args, ctx) => {
          const [order] = await ctx.orders.getOrders(ctx.op, [change.orderId]);
          if (!order) throw toGraphQLError(new NotFoundError('order'));
          return order;
        },
      }),
      from: t.field({ type: OrderStatusEnum, nullable: true, resolve: (c) => c.from }),
      to: t.field({ type: OrderStatusEnum, resolve: (c) => c.to }),
      version: t.exposeInt('version'),
      at: t.expose('at', { type: 'DateTime' }),
      actor: t.exposeString('actor', { nullable: true, description: '`customer:<id>`, `admin:<id>` or `system:<name>`.' }),
      reason: t.exposeString('reason', { nullable: true }),
    }),
  });

  const OrderOrderField = builder.enumType('OrderOrderField', { values: ['CREATED_AT', 'NUMBER', 'TOTAL'] as const });
  const OrderOrder = builder.inputType('OrderOrder', {
    fields: (t) => ({
      field: t.field({ type: OrderOrderField }),
      direction: t.field({ type: common.OrderDirection, defaultValue: 'DESC' }),
    }),
  });
  const OrderFilter = builder.inputType('OrderFilter', {
    fields: (t) => ({
      status: t.field({ type: [OrderStatusEnum], required: false, description: 'Any of these statuses.' }),
      customerId: t.id({ required: false, description: 'Admins: one customer. Customers: ignored unless it is their own.' }),
      createdAfter: t.field({ type: 'DateTime', required: false, description: 'Inclusive.' }),
      createdBefore: t.field({ type: 'DateTime', required: false, description: 'Exclusive.' }),
    }),
  });

  const listArgsFilter = (filter: { status?: readonly string[] | null; customerId?: string | number | null; createdAfter?: Date | null; createdBefore?: Date | null } | null | undefined) => {
    if (!filter) return {};
    const customerId = filter.customerId != null ? requireGlobalId(String(filter.customerId), 'Customer') : undefined;
    return {
      ...(filter.status ? { statuses: filter.status as Order['status'][] } : {}),
      ...(customerId ? { customerId } : {}),
      ...(filter.createdAfter ? { createdAfter: filter.createdAfter } : {}),
      ...(filter.createdBefore ? { createdBefore: filter.createdBefore } : {}),
    };
  };

  const orderPage = async (ctx: GraphQLContext, args: ConnectionArgs & { orderBy?: OrderOrderArg | null }, filter: OrderFilter) => {
    const page = await ctx.orders.listOrders(ctx.op, {
      first: args.first,
      after: args.after,
      last: args.last,
      before: args.before,
      filter,
      ...(args.orderBy ? { orderBy: { field: args.orderBy.field, direction: args.orderBy.direction ?? 'DESC' } } : {}),
    });
    if (!page.ok) throw toGraphQLError(page.error);
    return page.value;
  };

  builder.queryFields((t) => ({
    order: t.field({
      type: OrderRef,
      nullable: true,
      description: 'An order of yours (admins: any); anyone else gets null, exactly as for a missing id.',
      args: { id: t.arg.id() },
      resolve: async (_root, args, ctx) => {
        const [order] = await ctx.orders.getOrders(ctx.op, [requireGlobalId(String(args.id), 'Order')]);
        return order ?? null;
      },
    }),
    orders: t.connection({
      type: OrderRef,
      description: 'Your orders, newest first; admins see every order.',
      args: {
        filter: t.arg({ type: OrderFilter, required: false }),
        orderBy: t.arg({ type: OrderOrder, required: false }),
      },
      resolve: (_root, args, ctx) => orderPage(ctx, args, listArgsFilter(args.filter)),
    }),
  }));

  builder.objectField(refs.Customer, 'orders', (t) =>
    t.connection({
      type: OrderRef,
      description: "This customer's orders, newest first.",
      args: { orderBy: t.arg({ type: OrderOrder, required: false }) },
      resolve: (customer: { id: string }, args, ctx) => orderPage(ctx, args, { customerId: customer.id }),
    }),
  );

  builder.objectField(refs.PaymentDeclinedErrorRef, 'order', (t) =>
    t.field({
      type: OrderRef,
      description: 'The order, now PAYMENT_FAILED with its stock released.',
      resolve: (error: { orderId: string }) => error.orderId,
    }),
  );

  builder.objectType(OutOfStockError, {
    name: 'OutOfStockError',
    description: 'OUT_OF_STOCK: not enough units of `product`; nothing was reserved or charged.',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof OutOfStockError,
    fields: (t) => ({ product: t.field({ type: refs.Product, nullable: true, resolve: (e) => e.productId }) }),
  });
  builder.objectType(IllegalTransitionError, {
    name: 'IllegalTransitionError',
    description: 'ILLEGAL_TRANSITION: the status machine does not allow this change.',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof IllegalTransitionError,
    fields: (t) => ({
      from: t.field({ type: OrderStatusEnum, resolve: (e) => e.from }),
      to: t.field({ type: OrderStatusEnum, resolve: (e) => e.to }),
    }),
  });
  builder.objectType(VersionConflictError, {
    name: 'VersionConflictError',
    description: 'VERSION_CONFLICT: the order changed since the version you sent; reload and retry.',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof VersionConflictError,
    fields: (t) => ({
      expectedVersion: t.exposeInt('expectedVersion'),
      actualVersion: t.exposeInt('actualVersion'),
    }),
  });
  builder.objectType(IdempotencyKeyReusedError, {
    name: 'IdempotencyKeyReusedError',
    description: 'IDEMPOTENCY_KEY_REUSED: this key was used for a different order; use a new key per checkout.',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof IdempotencyKeyReusedError,
  });

  const OrderLineInput = builder.inputType('OrderLineInput', {
    fields: (t) => ({ productId: t.id(), quantity: t.int({ description: '1 to 1000.' }) }),
  });
  const PlaceOrderInput = builder.inputType('PlaceOrderInput', {
    fields: (t) => ({
      lines: t.field({ type: [OrderLineInput], description: '1 to 50 lines, each product once.' }),
      idempotencyKey: t.string({ description: 'A fresh key per checkout (a UUID; 1–255 characters, one line); a retry with it returns the first result and never charges twice.' }),
    }),
  });
  const CancelOrderInput = builder.inputType('CancelOrderInput', {
    fields: (t) => ({
      orderId: t.id(),
      reason: t.string({ required: false, description: 'At most 500 characters; line breaks allowed.' }),
      expectedVersion: t.int({ required: false, description: 'Refuse with VERSION_CONFLICT if the order moved past this version.' }),
    }),
  });
  const UpdateOrderStatusInput = builder.inputType('UpdateOrderStatusInput', {
    fields: (t) => ({
      orderId: t.id(),
      status: t.field({ type: OrderStatusEnum }),
      expectedVersion: t.int(),
      reason: t.string({ required: false, description: 'At most 500 characters; line breaks allowed.' }),
    }),
  });

  builder.mutationFields((t) => ({
    placeOrder: t.field({
      type: OrderRef,
      description: 'Places, prices, stock-checks and pays an order; PAID on success.',
      args: { input: t.arg({ type: PlaceOrderInput }) },
      errors: {
        types: [ValidationError, OutOfStockError, refs.PaymentDeclinedError, IdempotencyKeyReusedError, UnauthenticatedError],
        union: { name: 'PlaceOrderResult' },
        result: { name: 'PlaceOrderSuccess' },
        dataField: { name: 'order' },
      },
      resolve: async (_root, { input }, ctx) => {
        const lines = input.lines.map((line, index) => {
          const productId = parseGlobalId(String(line.productId), 'Product');
          if (!productId) throw ValidationError.of(['input', 'lines', String(index), 'productId'], 'no such product');
          return { productId, quantity: line.quantity };
        });
        return unwrap(await ctx.orders.placeOrder(ctx.op, { lines, idempotencyKey: input.idempotencyKey }));
      },
    }),
    cancelOrder: t.field({
      type: OrderRef,
      description: 'Cancels your PENDING or PAID order (admins: any); a paid order is refunded.',
      args: { input: t.arg({ type: CancelOrderInput }) },
      errors: {
        types: [ValidationError, NotFoundError, IllegalTransitionError, VersionConflictError, UnauthenticatedError],
        union: { name: 'CancelOrderResult' },
        result: { name: 'CancelOrderSuccess' },
        dataField: { name: 'order' },
      },
      resolve: async (_root, { input }, ctx) => {
        const orderId = parseGlobalId(String(input.orderId), 'Order');
        if (!orderId) throw new NotFoundError('order');
        return unwrap(
          await ctx.orders.cancelOrder(ctx.op, {
            orderId,
            reason: input.reason ?? null,
            ...(input.expectedVersion != null ? { expectedVersion: input.expectedVersion } : {}),
          }),
        );
      },
    }),
    updateOrderStatus: t.field({
      type: OrderRef,
      description: 'Admin: ship, deliver or cancel an order at the version you saw.',
      args: { input: t.arg({ type: UpdateOrderStatusInput }) },
      errors: {
        types: [ValidationError, NotFoundError, IllegalTransitionError, VersionConflictError, ForbiddenError, UnauthenticatedError],
        union: { name: 'UpdateOrderStatusResult' },
        result: { name: 'UpdateOrderStatusSuccess' },
        dataField: { name: 'order' },
      },
      resolve: async (_root, { input }, ctx) => {
        const orderId = parseGlobalId(String(input.orderId), 'Order');
        if (!orderId) throw new NotFoundError('order');
        return unwrap(
          await ctx.orders.updateOrderStatus(ctx.op, {
            orderId,
            status: input.status,
            expectedVersion: input.expectedVersion,
            reason: input.reason ?? null,
          }),
        );
      },
    }),
  }));

  builder.subscriptionFields((t) => ({
    orderStatusChanged: t.field({
      type: OrderStatusChangeRef,
      description:
        'Status changes of one order (orderId; owner or admin) or of every order you may see. With orderId and afterVersion, first replays every change after that version, in order, then goes live with no gap and no duplicate.',
      authScopes: { authenticated: true },
      args: { orderId: t.arg.id({ required: false }), afterVersion: t.arg.int({ required: false }) },
      subscribe: async (_root, args, ctx) => {
        let orderId: string | undefined;
        if (args.orderId != null) {
          orderId = requireGlobalId(String(args.orderId), 'Order');
        }
        const stream = await ctx.orders.watchOrderStatus(ctx.op, { orderId: orderId ?? null, afterVersion: args.afterVersion ?? null });
        if (!stream.ok) throw toGraphQLError(stream.error);
        return stream.value;
      },
      resolve: (change: OrderStatusChange, _args, ctx) => {
        // One subscription context serves every event: drop cached loads so each event shows fresh data.
        clearAllDataLoaders(ctx);
        return change;
      },
    }),
  }));

  return { Order: OrderRef, OrderStatus: OrderStatusEnum };
}
