import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../../platform/logger.ts';
import type { BackgroundWorker } from '../../../platform/worker-pool.ts';
import type { LogPosition } from '../domain/order-log-cursor.ts';
import { readEnd, readTail, type LogEntry } from './mikro-orm-order-log.ts';

/** What made the reader read: its doorbell, its timer, or a re-read of rows held back by an open transaction (a full batch's next reads count as the first's). */
export type ReadTrigger = 'ring' | 'timer' | 'retry';

/** Settings of an instance's log reader. */
export interface OrderLogReaderOptions {
  /** A fresh EntityManager per read (e.g. `() => orm.em.fork()`). */
  readonly em: () => EntityManager;
  /** Hands one change to this instance's subscribers; called in log order, once per change. */
  readonly deliver: (entry: LogEntry) => void;
  /** The timed read, in ms after the last read (ORDER_LOG_POLL_MS): how late a lost ring makes an event at most. */
  readonly pollMs: number;
  /** Rows per read; a full batch is followed by another read at once (default 500). */
  readonly batchSize?: number;
  readonly logger: Logger;
  /** Sees every read: what triggered it and how many rows it returned. */
  readonly onRead?: (trigger: ReadTrigger, rows: number) => void;
  /** Sees each change read, `seconds` after it was written (its `at`): the lag from commit to this instance. */
  readonly onArrival?: (seconds: number) => void;
}

/** An instance's log reader (ADR 0012). */
export interface OrderLogReader extends BackgroundWorker {
  /** The doorbell: read now (or right after the read in flight). */
  ring(): void;
  /**
   * Seconds since the oldest change was written that the last read found committed but held back
   * by an older open transaction (0: none): the horizon's lag, a gauge.
   */
  horizonLagSeconds(): number;
  /** The last position read; undefined until the first read found the end of the log. */
  position(): LogPosition | undefined;
}

const DEFAULT_BATCH = 500;
/**
 * Re-reads after a read found rows held back by an open transaction, in ms: the first soon, since
 * such transactions are usually other writers a few ms from their commit; then doubling up to the
 * cap (or the poll interval, if shorter). Nothing rings when the holder ends (a transaction that
 * wrote no log row, another database's, a migration), so the cap is how late held rows arrive
 * after it ended; a read of an index range 4 times a second costs nothing measurable.
 */
const HELD_RETRY_MS = { first: 10, max: 250 };

/**
 * Starts this instance's log reader: it begins at the current end of the log (subscribers resume
 * through replay) and reads every row committed after it, in position order, below the commit
 * horizon (ADR 0012), when rung, `pollMs` after its last read, and soon again when rows wait
 * behind the horizon; it hands each change to `deliver` once. Reads never overlap: a ring during
 * a read makes one more read after it. A failed read is logged (once per outage) and retried on
 * the timer from the same position, so nothing is skipped.
 */
export function startOrderLogReader(options: OrderLogReaderOptions): OrderLogReader {
  const controller = new AbortController();
  const batch = options.batchSize ?? DEFAULT_BATCH;
  let position: LogPosition | undefined;
  let heldSinceMs: number | undefined;
  let rung = false;
  let wakeUp: (() => void) | undefined;
  let failing = false;

  /** Reads until a batch comes back short. @returns whether rows wait behind the horizon. */
  const drain = async (trigger: ReadTrigger): Promise<boolean> => {
    position ??= await readEnd(options.em());
    for (;;) {
      const read = await readTail(options.em(), position, batch);
      options.onRead?.(trigger, read.entries.length);
      heldSinceMs = read.heldSinceMs;
      const now = Date.now();
      for (const entry of read.entries) {
        position = entry.change.position;
        options.onArrival?.((now - entry.writtenAtMs) / 1_000);
        options.deliver(entry);
      }
      if (read.entries.length < batch || controller.signal.aborted) return heldSinceMs !== undefined;
    }
  };

  /** Waits `ms`, or less when rung or stopped. @returns what ended the wait. */
  const wait = (ms: number, onTimeout: ReadTrigger) =>
    new Promise<ReadTrigger>((resolve) => {
      const timer = setTimeout(() => finish(onTimeout), ms);
      const onAbort = () => finish(onTimeout);
      controller.signal.addEventListener('abort', onAbort, { once: true });
      wakeUp = () => finish('ring');
      function finish(trigger: ReadTrigger) {
        clearTimeout(timer);
        controller.signal.removeEventListener('abort', onAbort);
        wakeUp = undefined;
        resolve(trigger);
      }
    });

  const loop = (async () => {
    let trigger: ReadTrigger = 'timer';
    let retryMs = 0;
    while (!controller.signal.aborted) {
      rung = false;
      try {
        const held = await drain(trigger);
        retryMs = held ? Math.min(retryMs === 0 ? HELD_RETRY_MS.first : retryMs * 2, HELD_RETRY_MS.max, options.pollMs) : 0;
        if (failing) options.logger.info('order log reads again');
        failing = false;
      } catch (error) {
        retryMs = 0;
        if (!failing && !controller.signal.aborted) options.logger.warn({ err: error }, 'order log read failed; retrying on the timer');
        failing = true;
      }
      if (controller.signal.aborted) break;
      trigger = rung ? 'ring' : await wait(retryMs > 0 ? retryMs : options.pollMs, retryMs > 0 ? 'retry' : 'timer');
    }
  })();

  return {
    ring() {
      rung = true;
      wakeUp?.();
    },
    horizonLagSeconds: () => (heldSinceMs === undefined ? 0 : Math.max(0, (Date.now() - heldSinceMs) / 1_000)),
    position: () => position,
    async stop() {
      controller.abort();
      await loop;
    },
  };
}
