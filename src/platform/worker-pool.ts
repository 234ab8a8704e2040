/**
 * Runs `work` over `items` with at most `concurrency` in flight (the seeds' worker-pool pattern):
 * a fixed number of workers pull the next item until none are left or `signal` aborts; items not
 * started by then are skipped. Resolves when every started item has finished.
 * `work` should handle its own errors; one that throws rejects the pool after the others finish.
 */
export async function runPool<T>(items: readonly T[], concurrency: number, signal: AbortSignal, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (!signal.aborted && next < items.length) {
      const item = items[next]!;
      next += 1;
      await work(item);
    }
  });
  const settled = await Promise.allSettled(workers);
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
}

/** A background loop that can be stopped. */
export interface BackgroundWorker {
  /** Aborts the loop and resolves when its current round has finished. */
  stop(): Promise<void>;
}

/**
 * Runs `round` now and then again `intervalMs` after each round ends (or sooner after `wake()`),
 * until stopped. A round's error is reported to `onError` and does not end the loop.
 */
export function startLoop(options: {
  readonly intervalMs: number;
  readonly round: (signal: AbortSignal) => Promise<unknown>;
  readonly onError: (error: unknown) => void;
}): BackgroundWorker & { wake(): void } {
  const controller = new AbortController();
  let wakeUp: (() => void) | undefined;
  let pendingWake = false;
  const loop = (async () => {
    while (!controller.signal.aborted) {
      pendingWake = false;
      try {
        await options.round(controller.signal);
      } catch (error) {
        if (!controller.signal.aborted) options.onError(error);
      }
      if (controller.signal.aborted || pendingWake) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, options.intervalMs);
        const onAbort = () => done();
        controller.signal.addEventListener('abort', onAbort, { once: true });
        wakeUp = done;
        function done() {
          clearTimeout(timer);
          controller.signal.removeEventListener('abort', onAbort);
          wakeUp = undefined;
          resolve();
        }
      });
    }
  })();
  return {
    wake() {
      pendingWake = true;
      wakeUp?.();
    },
    async stop() {
      controller.abort();
      wakeUp?.();
      await loop;
    },
  };
}
