import type { OrdersDeps } from './deps.ts';

/**
 * Called right after a transaction that changed order statuses committed: the changes are in the
 * order log already (its outbox rows, written in that transaction); this only rings the log's
 * doorbell so the readers deliver them now rather than at their next timed read (ADR 0012).
 */
export function announceCommitted(deps: Pick<OrdersDeps, 'doorbell' | 'crashPoints'>): void {
  deps.crashPoints.reach('order.after-commit');
  deps.doorbell.ring();
}
