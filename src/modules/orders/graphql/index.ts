import type { ObjectRef } from '@pothos/core';
import type { AppError } from '../../../platform/errors.ts';
import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import type { GraphQLContext } from '../../../graphql/context.ts';
import type { Payment } from '../../payments/public.ts';
import { registerOrderErrors } from './order.errors.ts';
import { registerOrderMutations, type LoadableById } from './order.mutations.ts';
import { registerOrderStatusChange } from './order-status-change.type.ts';
import { registerOrderStatusSubscription } from './order-status.subscription.ts';
import { registerOrderStatus } from './order-status.type.ts';
import { registerDeclinedPaymentOrder, registerOrder, registerOrderLine, registerOrderQueries } from './order.type.ts';

/** Refs of other modules' types that order fields point at, with the payments module's batch load. */
export interface OrdersGraphQLDeps {
  // biome-ignore lint: refs of other modules are opaque here
  readonly Customer: ObjectRef<any, any>;
  /** The catalog's Product node (its DataLoader is primed by placeOrder). */
  // biome-ignore lint: refs of other modules are opaque here
  readonly Product: ObjectRef<any, any> & LoadableById;
  readonly Payment: ObjectRef<any, Payment>;
  /**
   * Payments of orders the viewer may see, for `Order.payment` (the payments module's
   * `paymentsByOrderId`): one entry per id, in key order, null where the order has none.
   */
  readonly paymentsByOrderId: (orderIds: readonly string[], ctx: GraphQLContext) => Promise<readonly (Payment | null)[]>;
  /** Error class of a declined payment (payments module); must carry `orderId`. */
  // biome-ignore lint: the class's constructor arguments are the payments module's business
  readonly PaymentDeclinedError: new (...args: any[]) => AppError & { orderId: string };
  // biome-ignore lint: refs of other modules are opaque here
  readonly PaymentDeclinedErrorRef: ObjectRef<any, { orderId: string }>;
}

/**
 * Registers Order (a Relay node) with its lines, history and payment, `Customer.orders`,
 * `PaymentDeclinedError.order`, the `order`/`orders` queries, the placeOrder/cancelOrder/
 * updateOrderStatus mutations and the `orderStatusChanged` subscription. `currency` is the store's
 * ISO 4217 code, for line prices.
 * @returns the Order and OrderStatus refs.
 */
export function registerOrdersGraphQL(builder: Builder, common: CommonRefs, refs: OrdersGraphQLDeps, options: { currency: string }) {
  const OrderStatus = registerOrderStatus(builder);
  registerOrderErrors(builder, common, { Product: refs.Product, OrderStatus });
  const OrderLine = registerOrderLine(builder, common, refs.Product, options.currency);
  const Order = registerOrder(builder, common, { ...refs, OrderStatus, OrderLine });
  const OrderStatusChange = registerOrderStatusChange(builder, { Order, OrderStatus });
  registerOrderQueries(builder, common, { Order, OrderStatus, Customer: refs.Customer });
  registerDeclinedPaymentOrder(builder, { Order, PaymentDeclinedError: refs.PaymentDeclinedErrorRef });
  registerOrderMutations(builder, { Order, OrderStatus, Product: refs.Product, PaymentDeclinedError: refs.PaymentDeclinedError });
  registerOrderStatusSubscription(builder, OrderStatusChange);
  return { Order, OrderStatus };
}
