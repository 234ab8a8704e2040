import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../../platform/logger.ts';
import { startLoop, type BackgroundWorker } from '../../../platform/worker-pool.ts';
import { pruneBefore } from './mikro-orm-order-log.ts';

/** Settings of the order log's retention pruner. */
export interface OrderLogPrunerOptions {
  /** A fresh EntityManager per round. */
  readonly em: () => EntityManager;
  /** How long the log keeps changes, in ms (ORDER_LOG_RETENTION_HOURS). */
  readonly retentionMs: number;
  readonly logger: Logger;
  readonly clock?: () => Date;
  /** Between rounds, in ms (default 10 minutes). */
  readonly intervalMs?: number;
}

/**
 * Default pause between rounds: a window of hours to days needs no finer pruning, and a round then
 * deletes about ten minutes' worth of rows.
 */
const DEFAULT_INTERVAL_MS = 10 * 60_000;
/**
 * Rows kept beyond the window, in ms: a cursor is refused once its row is older than the window on
 * the instance that checks it (domain/order-log-cursor.ts `isExpired`), so rows after any cursor
 * still accepted must be there even when the instances' clocks differ by up to this much.
 */
export const PRUNE_MARGIN_MS = 10 * 60_000;
/** Rows per delete: short statements, so the index and the table are never locked for long. */
const BATCH = 5_000;

/**
 * Deletes the log's rows older than the retention window (plus {@link PRUNE_MARGIN_MS}), as a
 * prefix in log order (see `pruneBefore`), at start-up and then every `intervalMs`. Every instance
 * runs one; two deleting the same rows at once only wait for each other.
 */
export function startOrderLogPruner(options: OrderLogPrunerOptions): BackgroundWorker {
  const clock = options.clock ?? (() => new Date());
  return startLoop({
    intervalMs: options.intervalMs ?? DEFAULT_INTERVAL_MS,
    round: async (signal) => {
      const cutoff = new Date(clock().getTime() - options.retentionMs - PRUNE_MARGIN_MS);
      let pruned = 0;
      for (;;) {
        const deleted = await pruneBefore(options.em(), cutoff, BATCH);
        pruned += deleted;
        if (deleted < BATCH || signal.aborted) break;
      }
      if (pruned > 0) options.logger.info({ pruned, before: cutoff.toISOString() }, 'order log pruned');
    },
    onError: (error) => options.logger.warn({ err: error }, 'order log pruning failed; retrying next round'),
  });
}
