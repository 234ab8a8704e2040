import type { Builder } from '../../../graphql/builder.ts';
import type { OrderStatusChange } from '../domain/order.ts';
import type { OrderStatusEvent } from '../public.ts';
import type { OrderStatusRef } from './order-status.type.ts';
import { loadRequiredOrder, type OrderRef } from './order.type.ts';

/**
 * Registers OrderStatusChange (an entry of an order's audit trail and the `orderStatusChanged`
 * event) and adds `Order.statusHistory`.
 * @returns the OrderStatusChange ref, for the subscription.
 */
export function registerOrderStatusChange(builder: Builder, refs: { readonly Order: OrderRef; readonly OrderStatus: OrderStatusRef }) {
  // An audit-trail entry (no cursor) or a subscription event (OrderStatusEvent).
  const OrderStatusChangeRef = builder.objectRef<OrderStatusChange & Partial<Pick<OrderStatusEvent, 'cursor' | 'snapshot'>>>('OrderStatusChange').implement({
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
      cursor: t.string({
        nullable: true,
        description:
          'Opaque position of this change in the order log: pass it as `orderStatusChanged(after:)` to resume right after it (SSE events carry it as `id:`, so `Last-Event-ID` resumes too). Set on every `orderStatusChanged` event but one read from the audit trail (an `afterVersion` replay or a snapshot) whose log entry is older than the retention window, or was committed a moment ago while an older transaction was still open (not yet a safe resume point; the next event has one). Always null in `Order.statusHistory`.',
        resolve: (change) => change.cursor ?? null,
      }),
      snapshot: t.boolean({
        description:
          'True only on the first event of `orderStatusChanged(orderId, snapshot: true)`: the order\'s latest change (from, to, at, version) as it stood when the subscription started, rather than a change that just happened. Every later event is a change after that version. Always false in `Order.statusHistory`.',
        resolve: (change) => change.snapshot === true,
      }),
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
