import { isAsyncIterable, type Plugin } from 'graphql-yoga';

/**
 * Wraps a subscription stream so that it ends (yields `done`) as soon as `signal` aborts, even while
 * it waits for its next event, and calls `onFinish` once however it ends (done, return, error,
 * abort). The source is told to stop with `return()` without waiting for it: an async generator
 * parked in an `await` only handles `return()` after that await settles.
 */
export function endOnAbort<T>(source: AsyncIterable<T>, signal: AbortSignal, onFinish: () => void = () => {}): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  let stopped = false;
  const finish = () => {
    if (stopped) return;
    stopped = true;
    signal.removeEventListener('abort', onAbort);
    onFinish();
  };
  const stop = (): IteratorReturnResult<undefined> => {
    if (!stopped) {
      finish();
      void iterator.return?.()?.catch(() => undefined);
    }
    return done;
  };
  let onAbort = () => {};
  const aborted = new Promise<IteratorReturnResult<undefined>>((resolve) => {
    onAbort = () => resolve(stop());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return {
    next: async () => {
      if (stopped) return done;
      try {
        const result = await Promise.race([iterator.next(), aborted]);
        if (result.done) finish();
        return result;
      } catch (error) {
        finish();
        throw error;
      }
    },
    return: async () => stop(),
    throw: async (error?: unknown) => {
      stop();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Subscriptions over every transport (SSE and graphql-ws): reports each stream's start and end to
 * `onDelta` (the active-subscriptions gauge) and ends every open stream when `shutdown` aborts, so
 * SSE responses finish and their connections can close during a graceful shutdown.
 */
export function useSubscriptionLifecycle(options: { readonly shutdown: AbortSignal; readonly onDelta: (delta: 1 | -1) => void }): Plugin<Record<string, unknown>> {
  return {
    onSubscribe: () => ({
      onSubscribeResult: ({ result, setResult }) => {
        if (!isAsyncIterable(result)) return;
        options.onDelta(1);
        setResult(endOnAbort(result, options.shutdown, () => options.onDelta(-1)));
      },
    }),
  };
}
