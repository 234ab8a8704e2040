import type { EntityManager } from '@mikro-orm/postgresql';
import { execute, perOrm, sqlNames } from '../../../platform/db/sql-parts.ts';
import type { Logger } from '../../../platform/logger.ts';
import { startLoop, type BackgroundWorker } from '../../../platform/worker-pool.ts';
import type { WireChange } from './event-target-order-events.ts';
import { OutboxRecord } from './outbox.entity.ts';

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
  /** How long a worker's claim holds its batch, in ms (default 10 s). */
  readonly claimMs?: number;
}

/**
 * How long a claim holds a batch by default: far longer than publishing one takes (a batch of 100
 * at ~22 ms each to 10,000 in-process subscribers is ~2 s), so only a worker that died or hung
 * loses its rows to another, which publishes them again (at-least-once); short enough that rows a
 * killed process held go out again within seconds of a restart.
 */
const DEFAULT_CLAIM_MS = 10_000;

/**
 * The relay's statements, built once per ORM with the table and column names of the entity
 * metadata. Hand-written (ADR 0011): the claim is `FOR UPDATE SKIP LOCKED` with the per-order
 * sequence rule, and the mark asks in the same statement whether rows wait behind the batch.
 */
const relayStatements = perOrm((em) => {
  const x = sqlNames(em, OutboxRecord);
  const [id, aggregateId, publishedAt, claimedUntil] = [x.column('id'), x.column('aggregateId'), x.column('publishedAt'), x.column('claimedUntil')];
  const unpublishedBefore = (row: string) => `not exists (select 1 from ${x.table} e where e.${aggregateId} = ${row}.${aggregateId} and e.${publishedAt} is null and e.${id} < ${row}.${id})`;
  return {
    // Claims rows nobody holds, each with no earlier unpublished row of its order (claimed or not),
    // so versions of one order go out in sequence however many workers and instances run; the
    // claim commits at once (no transaction stays open while publishing).
    claim: `update ${x.table} o set ${claimedUntil} = now() + make_interval(secs => ?), ${x.column('attempts')} = o.${x.column('attempts')} + 1
      where o.${id} in (
        select c.${id} from ${x.table} c
         where c.${publishedAt} is null and (c.${claimedUntil} is null or c.${claimedUntil} < now()) and ${unpublishedBefore('c')}
         order by c.${id} limit ?
         for update skip locked)
      returning o.${id} as id, o.${x.column('payload')} as payload`,
    // Marks the batch and asks whether a later row of one of its orders waits (a batch takes one
    // row per order, to keep each order's rows in sequence). The outer query reads the snapshot
    // before the update, so it checks rows after each marked one only.
    mark: (count: number) => `with marked as (
        update ${x.table} set ${publishedAt} = now(), ${claimedUntil} = null where ${id} in (${Array.from({ length: count }, () => '?').join(', ')})
        returning ${id}, ${aggregateId})
      select exists (select 1 from ${x.table} e join marked m on e.${aggregateId} = m.${aggregateId} where e.${publishedAt} is null and e.${id} > m.${id}) as queued`,
  };
});

/**
 * The transactional outbox relay: publishes outbox rows to the pub/sub port at least once, in order
 * per order, and marks them published.
 *
 * Each worker claims a batch (one statement: `FOR UPDATE SKIP LOCKED`, only rows with no earlier
 * unpublished row of the same order, held by a `claimed_until` that commits with the claim), so no
 * two workers (in this or another instance) publish versions of one order out of order. It
 * publishes them in id order, then marks them (a second statement): two statements a batch. If
 * publishing fails the claim is given back; if the process dies the claim expires: either way the
 * rows are claimed again later (subscribers drop duplicates by version).
 * @returns the workers, with `nudge()` to wake one after a commit and `stop()` for shutdown.
 */
export function startOutboxRelay(options: OutboxRelayOptions): BackgroundWorker & { nudge(): void; relayOnce(): Promise<number> } {
  // Claims started so far, by any worker of this relay (see the drain loop below).
  let claims = 0;
  /** One batch: claimed, published, marked. `queued`: a published order has later rows waiting. */
  const relayBatch = async (): Promise<{ published: number; queued: boolean }> => {
    claims += 1;
    const em = options.em();
    const statements = relayStatements(em);
    const claimSeconds = (options.claimMs ?? DEFAULT_CLAIM_MS) / 1_000;
    const claimed = await execute<{ id: number | string; payload: WireChange | string }>(em, { sql: statements.claim, params: [claimSeconds, options.batchSize] });
    if (claimed.length === 0) return { published: 0, queued: false };
    const rows = claimed.sort((a, b) => Number(a.id) - Number(b.id));
    const ids = rows.map((row) => row.id);
    try {
      for (const row of rows) {
        await options.sink.publishWire(typeof row.payload === 'string' ? (JSON.parse(row.payload) as WireChange) : row.payload);
      }
    } catch (error) {
      // Given back at once (saying why) rather than at the claim's expiry.
      const lastError = (error instanceof Error ? error.message : String(error)).slice(0, 1_000);
      await em.nativeUpdate(OutboxRecord, { id: { $in: ids.map(Number) }, publishedAt: null }, { claimedUntil: null, lastError }).catch(() => undefined);
      throw error;
    }
    const [marked] = await execute<{ queued: boolean }>(em, { sql: statements.mark(ids.length), params: ids });
    return { published: rows.length, queued: marked?.queued === true };
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
