import type { Builder } from '../../../graphql/builder.ts';
import { toGraphQLError } from '../../../graphql/errors.ts';
import { requireGlobalId } from '../../../graphql/global-id.ts';
import { resumeCursorOf } from '../../../graphql/sse-resume.ts';
import type { OrderStatusEvent, WatchOrderStatusInput } from '../public.ts';
import type { OrderStatusChangeRef } from './order-status-change.type.ts';

const DESCRIPTION = [
  'Status changes of one order (orderId; owner or admin) or of every order you may see, each with a `cursor`.',
  'Where it starts (at most one of): live (default); `afterVersion` (with orderId): every recorded change after that version first;',
  '`after`: every change after that cursor first (of orderId when given; of your own orders, or all for an admin);',
  '`snapshot: true` (with orderId): the order\'s latest change first, marked `snapshot`, then every later one.',
  'Replays join the live changes with no gap and no duplicate. Over SSE, a reconnect with `Last-Event-ID` resumes after that cursor.',
  'Errors: CURSOR_EXPIRED when `after` is older than the order log\'s retention window (query the current state, then subscribe without it);',
  'VALIDATION_FAILED for a malformed cursor or conflicting arguments; NOT_FOUND for an order you cannot see.',
].join(' ');

/** Registers the `orderStatusChanged` subscription (signed-in viewers only). */
export function registerOrderStatusSubscription(builder: Builder, OrderStatusChange: OrderStatusChangeRef): void {
  builder.subscriptionField('orderStatusChanged', (t) =>
    t.field({
      type: OrderStatusChange,
      description: DESCRIPTION,
      authScopes: { authenticated: true },
      args: {
        orderId: t.arg.id({ required: false, description: 'Follow this order only.' }),
        afterVersion: t.arg.int({ required: false, description: 'With orderId: first every recorded change with a greater version.' }),
        after: t.arg.string({ required: false, description: 'The `cursor` of the last event you received: resume right after it.' }),
        snapshot: t.arg.boolean({ required: false, description: 'With orderId: first the order\'s current state (its latest change), then every later change.' }),
      },
      subscribe: async (_root, args, ctx) => {
        const orderId = args.orderId != null ? requireGlobalId(String(args.orderId), 'Order') : null;
        // An SSE client reconnecting sends the id of the last event it got: resume there, whatever
        // the operation's own starting point (its variables, `after` included, are still the first
        // request's: honouring them instead replayed everything since then again, issue 14's chaos run).
        const resumed = resumeCursorOf(ctx);
        const input: WatchOrderStatusInput =
          resumed !== undefined
            ? { orderId, after: resumed }
            : { orderId, afterVersion: args.afterVersion ?? null, after: args.after ?? null, snapshot: args.snapshot ?? null };
        const stream = await ctx.orders.watchOrderStatus(ctx.op, input);
        if (!stream.ok) throw toGraphQLError(stream.error);
        return stream.value;
      },
      // Each event executes with its own EntityManager fork and DataLoaders (useSharedSubscriptionEvents).
      resolve: (change: OrderStatusEvent) => change,
    }),
  );
}
