import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../../platform/logger.ts';
import { startLoop, type BackgroundWorker } from '../../../platform/worker-pool.ts';
import type { WireChange } from './event-target-order-events.ts';

/** Where the relay hands events to: the order events pub/sub. */
export interface OutboxSink {
  publishWire(change: WireChange): Promise<void>;
}

/** Relay settings. */
export interface OutboxRelayOptions {
  /** A fresh EntityManager per round (e.g. `() => orm.em.fork()`). */
  readonly em: () => EntityManager;
  readonly sink: OutboxSink;
  readonly logger: Logger;
  /** Workers claiming batches in parallel. */
  readonly concurrency: number;
  /** Rows claimed per batch. */
  readonly batchSize: number;
  /** Poll interval when idle, in ms (a nudge after a commit wakes the workers sooner). */
  readonly pollIntervalMs: number;
}

/**
 * The transactional outbox relay: publishes outbox rows to the pub/sub port at least once, in order
 * per order, and marks them published.
 *
 * Each worker claims a batch in a transaction with `FOR UPDATE SKIP LOCKED`, taking only rows with
 * no earlier unpublished row of the same order, so no two workers (in this or another instance)
 * can publish versions of one order out of order. It publishes them in id order and marks them
 * in the same transaction; if publishing fails or the process dies, the transaction rolls back and
 * the rows are claimed again later (subscribers drop duplicates by version).
 * @returns the workers, with `nudge()` to wake one after a commit and `stop()` for shutdown.
 */
export function startOutboxRelay(options: OutboxRelayOptions): BackgroundWorker & { nudge(): void; relayOnce(): Promise<number> } {
  // Claims started so far, by any worker of this relay (see the drain loop below).
  let claims = 0;
  /** One batch: claimed, published, marked. `queued`: a published order has later rows waiting. */
  const relayBatch = async (): Promise<{ published: number; queued: boolean }> => {
    claims += 1;
    const em = options.em();
    return em.transactional(async (tx) => {
      const rows = await tx.getConnection().execute<{ id: string; payload: WireChange | string }[]>(
        `select o.id, o.payload from outbox o
          where o.published_at is null
            and not exists (select 1 from outbox e where e.aggregate_id = o.aggregate_id and e.published_at is null and e.id < o.id)
          order by o.id
          limit ?
          for update skip locked`,
        [options.batchSize],
        'all',
        tx.getTransactionContext(),
      );
      if (rows.length === 0) return { published: 0, queued: false };
      for (const row of rows) {
        await options.sink.publishWire(typeof row.payload === 'string' ? (JSON.parse(row.payload) as WireChange) : row.payload);
      }
      // Marks the batch and, in the same statement, asks whether a later row of one of its orders
      // waits (a batch takes one row per order, to keep each order's rows in sequence). The outer
      // query reads the snapshot before the update, so it checks rows after each marked one only.
      const [marked] = await tx.getConnection().execute<{ queued: boolean }[]>(
        `with marked as (
           update outbox set published_at = now(), attempts = attempts + 1 where id in (${rows.map(() => '?').join(', ')})
           returning id, aggregate_id)
         select exists (select 1 from outbox e join marked m on e.aggregate_id = m.aggregate_id
                         where e.published_at is null and e.id > m.id) as queued`,
        rows.map((r) => r.id),
        'all',
        tx.getTransactionContext(),
      );
      return { published: rows.length, queued: marked?.queued === true };
    });
  };
  const relayOnce = async (): Promise<number> => (await relayBatch()).published;

  const workers = Array.from({ length: options.concurrency }, () =>
    startLoop({
      intervalMs: options.pollIntervalMs,
      round: async (signal) => {
        // Drain, then rest until the next poll or nudge. The round ends without another (empty)
        // claim once a batch was short and left nothing queued behind it (issue 6: that claim
        // was a transaction and a SELECT per commit), unless another worker claimed meanwhile: it
        // may have skipped rows queued behind this worker's, claimable now that it committed.
        while (!signal.aborted) {
          const before = claims;
          const { published, queued } = await relayBatch();
          if (published === 0 || (published < options.batchSize && !queued && claims === before + 1)) break;
        }
      },
      onError: (error) => options.logger.warn({ err: error }, 'outbox relay round failed; retrying'),
    }),
  );
  // A commit wakes one worker, in turn: it drains everything committed so far, including rows
  // that queued behind others' claims while it ran. Waking every worker cost each an empty claim
  // (a transaction and a SELECT) per commit (issue 6); the others still poll.
  let next = 0;
  return {
    relayOnce,
    nudge: () => {
      workers[next]!.wake();
      next = (next + 1) % workers.length;
    },
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}
