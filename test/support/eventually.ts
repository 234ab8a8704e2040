import { setTimeout as delay } from 'node:timers/promises';

/** How long {@link eventually} keeps trying, and how it reports giving up. */
export interface EventuallyOptions {
  /** Deadline, in ms after the first try (default 10,000). */
  readonly timeoutMs?: number;
  /** Pause between tries, in ms (default 20). */
  readonly intervalMs?: number;
  /** What is awaited, for the message when a probe answered `false` until the deadline. */
  readonly what?: string;
  /** Gives up at once when it aborts (e.g. the process being waited for exited), with its reason. */
  readonly signal?: AbortSignal;
}

/**
 * Tries `probe` until it passes or the deadline passes: for what the system exposes only by its
 * state (a row, a gauge, a list filled by a callback), never a fixed wait. A try passes when the
 * probe neither throws nor returns `false`, so it may be an assertion (`expect(…)`) or a predicate.
 * A try still running at the deadline is not waited for.
 * @returns what the passing try returned.
 * @throws the last try's error (an assertion's diff), or an Error naming `what` when it returned
 * `false`, once `timeoutMs` has passed; `signal`'s reason once it aborts.
 */
export async function eventually<T>(probe: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<Exclude<T, false>> {
  const { timeoutMs = 10_000, intervalMs = 20, what = 'the condition', signal } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await within(Promise.resolve().then(probe), Math.max(1, deadline - Date.now()), what);
      if (value !== false) return value as Exclude<T, false>;
      last = new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) throw last;
    await delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())), undefined, signal ? { signal } : {}).catch(() => signal?.throwIfAborted());
  }
}

/**
 * Resolves as `promise` does, or rejects once `ms` ms have passed: a bound on a wait for an event
 * (an exit, a message), so a broken system fails the test with `what` instead of hanging it.
 */
export async function within<T>(promise: Promise<T>, ms: number, what = 'the expected event'): Promise<T> {
  const bound = new AbortController();
  try {
    return await Promise.race([
      promise,
      delay(ms, undefined, { signal: bound.signal }).then(() => {
        throw new Error(`${what} did not happen within ${ms} ms`);
      }),
    ]);
  } finally {
    bound.abort();
  }
}
