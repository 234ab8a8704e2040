import { ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError, type AppError } from '../../../platform/errors.ts';
import { unwrap } from '../../../platform/result.ts';
import type { Builder } from '../../../graphql/builder.ts';
import { parseGlobalId } from '../../../graphql/global-id.ts';
import { IdempotencyKeyReusedError, IllegalTransitionError, OutOfStockError, VersionConflictError } from '../domain/errors.ts';
import type { GraphQLContext } from '../../../graphql/context.ts';
import type { PlacedOrder } from '../public.ts';
import type { OrderStatusRef } from './order-status.type.ts';
import { orderLinesLoader, type OrderRef } from './order.type.ts';

/** A ref whose objects load through a per-operation DataLoader keyed by id (a Pothos loadable node). */
export interface LoadableById {
  getDataloader(ctx: object): { prime(id: string, value: never): unknown };
}

/** What the order mutations point at. */
export interface OrderMutationRefs {
  readonly Order: OrderRef;
  readonly OrderStatus: OrderStatusRef;
  /** The catalog's Product node, primed with the products placeOrder read. */
  readonly Product: LoadableById;
  /** Error class of a declined payment (payments module), a member of placeOrder's result union. */
  // biome-ignore lint: the class's constructor arguments are the payments module's business
  readonly PaymentDeclinedError: new (...args: any[]) => AppError & { orderId: string };
}

/** The description of the optional `idempotencyKey` of cancelOrder and updateOrderStatus (ADR 0013). */
const idempotencyKeyDescription =
  'Optional, a fresh key per intended change (a UUID; 1–255 characters, one line): a retry with the same key and input within 24 hours answers the first result without doing it again; the same key with other input is IDEMPOTENCY_KEY_REUSED.';

/** Registers the inputs of the order mutations. */
function registerOrderMutationInputs(builder: Builder, OrderStatus: OrderStatusRef) {
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
      idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    }),
  });
  const UpdateOrderStatusInput = builder.inputType('UpdateOrderStatusInput', {
    fields: (t) => ({
      orderId: t.id(),
      status: t.field({ type: OrderStatus }),
      expectedVersion: t.int(),
      reason: t.string({ required: false, description: 'At most 500 characters; line breaks allowed.' }),
      idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    }),
  });
  return { PlaceOrderInput, CancelOrderInput, UpdateOrderStatusInput };
}

/**
 * Primes the operation's loaders with what placeOrder read and wrote, so that its answer's
 * `lines { product }` reads nothing again (issue 12).
 */
function primeAnswer(ctx: GraphQLContext, Product: LoadableById, placed: PlacedOrder): void {
  orderLinesLoader(ctx).prime(placed.order.id, [...placed.lines]);
  const products = Product.getDataloader(ctx);
  for (const product of placed.products) products.prime(product.id, product as never);
}

/**
 * Registers `placeOrder`, `cancelOrder` and `updateOrderStatus`; each answers a result union of the
 * order (under `order`) or a typed error.
 */
export function registerOrderMutations(builder: Builder, refs: OrderMutationRefs): void {
  const inputs = registerOrderMutationInputs(builder, refs.OrderStatus);

  builder.mutationField('placeOrder', (t) =>
    t.field({
      type: refs.Order,
      description: 'Places, prices, stock-checks and pays an order; PAID on success.',
      args: { input: t.arg({ type: inputs.PlaceOrderInput }) },
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
        const placing = { lines, idempotencyKey: input.idempotencyKey };
        return unwrap(await ctx.orders.placeOrder(ctx.op, placing, (placed) => primeAnswer(ctx, refs.Product, placed)));
      },
    }),
  );

  builder.mutationField('cancelOrder', (t) =>
    t.field({
      type: refs.Order,
      description: 'Cancels your PENDING or PAID order (admins: any); a paid order is refunded. Idempotent with `idempotencyKey`.',
      args: { input: t.arg({ type: inputs.CancelOrderInput }) },
      errors: {
        types: [ValidationError, NotFoundError, IllegalTransitionError, VersionConflictError, IdempotencyKeyReusedError, UnauthenticatedError],
        union: { name: 'CancelOrderResult' },
        result: { name: 'CancelOrderSuccess' },
        dataField: { name: 'order' },
      },
      resolve: async (_root, { input }, ctx) => {
        const orderId = parseGlobalId(String(input.orderId), 'Order');
        if (!orderId) throw new NotFoundError('order');
        const expected = input.expectedVersion != null ? { expectedVersion: input.expectedVersion } : {};
        const key = input.idempotencyKey != null ? { idempotencyKey: input.idempotencyKey } : {};
        return unwrap(await ctx.orders.cancelOrder(ctx.op, { orderId, reason: input.reason ?? null, ...expected, ...key }));
      },
    }),
  );

  builder.mutationField('updateOrderStatus', (t) =>
    t.field({
      type: refs.Order,
      description: 'Admin: ship, deliver or cancel an order at the version you saw. Idempotent with `idempotencyKey`.',
      args: { input: t.arg({ type: inputs.UpdateOrderStatusInput }) },
      errors: {
        types: [ValidationError, NotFoundError, IllegalTransitionError, VersionConflictError, IdempotencyKeyReusedError, ForbiddenError, UnauthenticatedError],
        union: { name: 'UpdateOrderStatusResult' },
        result: { name: 'UpdateOrderStatusSuccess' },
        dataField: { name: 'order' },
      },
      resolve: async (_root, { input }, ctx) => {
        const orderId = parseGlobalId(String(input.orderId), 'Order');
        if (!orderId) throw new NotFoundError('order');
        const { status, expectedVersion } = input;
        const key = input.idempotencyKey != null ? { idempotencyKey: input.idempotencyKey } : {};
        return unwrap(await ctx.orders.updateOrderStatus(ctx.op, { orderId, status, expectedVersion, reason: input.reason ?? null, ...key }));
      },
    }),
  );
}
