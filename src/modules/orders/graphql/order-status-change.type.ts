import type { Builder } from '../../../graphql/builder.ts';
import type { OrderStatusChange } from '../domain/order.ts';
import type { OrderStatusRef } from './order-status.type.ts';
import { loadRequiredOrder, type OrderRef } from './order.type.ts';

/**
 * Registers OrderStatusChange (an entry of an order's audit trail and the `orderStatusChanged`
 * event) and adds `Order.statusHistory`.
 * @returns the OrderStatusChange ref, for the subscription.
 */
export function registerOrderStatusChange(builder: Builder, refs: { readonly Order: OrderRef; readonly OrderStatus: OrderStatusRef }) {
  const OrderStatusChangeRef = builder.objectRef<OrderStatusChange>('OrderStatusChange').implement({
    description: 'One status change of an order: an entry of its audit trail and a subscription event.',
    fields: (t) => ({
      order: t.field({
        type: refs.Order,
        // Through the Order loader: `statusHistory { order }` over many orders is one read.
        resolve: (change, _args, ctx) => loadRequiredOrder(refs.Order, ctx, change.orderId),
      }),
      from: t.field({ type: refs.OrderStatus, nullable: true, resolve: (c) => c.from }),
      to: t.field({ type: refs.OrderStatus, resolve: (c) => c.to }),
      version: t.exposeInt('version'),
      at: t.expose('at', { type: 'DateTime' }),
      actor: t.exposeString('actor', { nullable: true, description: '`customer:<id>`, `admin:<id>` or `system:<name>`.' }),
      reason: t.exposeString('reason', { nullable: true }),
    }),
  });

  builder.objectField(refs.Order, 'statusHistory', (t) =>
    t.loadableList({
      type: OrderStatusChangeRef,
      description: 'The audit trail, oldest first.',
      load: (orderIds: string[], ctx) => ctx.orders.getStatusHistory(ctx.op, orderIds),
      resolve: (order) => order.id,
    }),
  );

  return OrderStatusChangeRef;
}

/** The OrderStatusChange ref as {@link registerOrderStatusChange} returns it. */
export type OrderStatusChangeRef = ReturnType<typeof registerOrderStatusChange>;
