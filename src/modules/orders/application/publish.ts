import type { OrderStatusChange } from '../domain/order.ts';
import type { OrdersDeps } from './deps.ts';

/**
 * Publishes committed changes in version order. A failed publish does not undo the committed
 * change; subscribers that resume with `afterVersion` read it from the history (issue #3 moves this
 * to a transactional outbox).
 */
export async function publishCommitted(deps: Pick<OrdersDeps, 'events' | 'logger'>, changes: readonly OrderStatusChange[]): Promise<void> {
  for (const change of changes) {
    try {
      await deps.events.publish(change);
    } catch (error) {
      deps.logger.warn({ err: error, orderId: change.orderId, version: change.version }, 'order status change not published');
    }
  }
}
