import { clearAllDataLoaders } from '@pothos/plugin-dataloader';
import type { Builder } from '../../../graphql/builder.ts';
import { toGraphQLError } from '../../../graphql/errors.ts';
import { requireGlobalId } from '../../../graphql/global-id.ts';
import type { OrderStatusChange } from '../domain/order.ts';
import type { OrderStatusChangeRef } from './order-status-change.type.ts';

/** Registers the `orderStatusChanged` subscription (signed-in viewers only). */
export function registerOrderStatusSubscription(builder: Builder, OrderStatusChange: OrderStatusChangeRef): void {
  builder.subscriptionField('orderStatusChanged', (t) =>
    t.field({
      type: OrderStatusChange,
      description:
        'Status changes of one order (orderId; owner or admin) or of every order you may see. With orderId and afterVersion, first replays every change after that version, in order, then goes live with no gap and no duplicate.',
      authScopes: { authenticated: true },
      args: { orderId: t.arg.id({ required: false }), afterVersion: t.arg.int({ required: false }) },
      subscribe: async (_root, args, ctx) => {
        const orderId = args.orderId != null ? requireGlobalId(String(args.orderId), 'Order') : null;
        const stream = await ctx.orders.watchOrderStatus(ctx.op, { orderId, afterVersion: args.afterVersion ?? null });
        if (!stream.ok) throw toGraphQLError(stream.error);
        return stream.value;
      },
      resolve: (change: OrderStatusChange, _args, ctx) => {
        // One subscription context serves every event: drop cached loads so each event shows fresh data.
        clearAllDataLoaders(ctx);
        return change;
      },
    }),
  );
}
