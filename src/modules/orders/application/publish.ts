import type { OrdersDeps } from './deps.ts';

/**
 * Called right after a transaction that changed order statuses committed: the changes are in the
 * outbox already (written in that transaction); this only wakes the relay so subscribers hear of
 * them now rather than at its next poll.
 */
export function announceCommitted(deps: Pick<OrdersDeps, 'outbox' | 'crashPoints'>): void {
  deps.crashPoints.reach('order.after-commit');
  deps.outbox.nudge();
}
