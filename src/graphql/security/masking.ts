import { isAsyncIterable, maskError, type Plugin } from 'graphql-yoga';
import type { ExecutionResult, GraphQLError } from 'graphql';
import type { Logger } from '../../platform/logger.ts';

/** The message yoga masks unexpected errors with (its default). */
export const MASKED_MESSAGE = 'Unexpected error.';

/**
 * Adds the operation's request id to every masked ("Unexpected error.", INTERNAL_SERVER_ERROR)
 * error of an HTTP response, so a client can quote it and support can find the logged cause.
 * yoga masks in its own plugin, after ours; `onExecutionResult` runs once masking is done.
 */
export function useRequestIdOnMaskedErrors(): Plugin {
  return {
    onExecutionResult({ result, context }) {
      // Our context factory's result is merged into yoga's context: `op` is there once it ran.
      const requestId = (context as { op?: { requestId?: string } }).op?.requestId;
      if (!requestId || !result || Symbol.asyncIterator in Object(result)) return;
      const results = Array.isArray(result) ? result : [result];
      for (const single of results as { errors?: readonly GraphQLError[] }[]) {
        for (const error of single.errors ?? []) {
          if (error.extensions?.['code'] === 'INTERNAL_SERVER_ERROR') {
            (error.extensions as Record<string, unknown>)['requestId'] = requestId;
          }
        }
      }
    },
  };
}

/** Masks one error as yoga's `maskedErrors` does; see {@link createErrorMask}. */
export type MaskError = (error: unknown) => Error;

/**
 * yoga's masking of one error, for the subscription paths that bypass its plugin (see
 * {@link useMaskedSubscriptions}): graphql-yoga's own `maskError` with yoga's message and
 * `isDev: false` (as `maskedErrors: { isDev: false }` configures it), i.e. a GraphQLError raised
 * as such passes through; anything else becomes "Unexpected error." with code
 * INTERNAL_SERVER_ERROR, and the original is logged as yoga logs it. An error it made is returned
 * as is (yoga keeps the same set, so nothing is masked or logged twice).
 */
export function createErrorMask(logger: Logger): MaskError {
  const masked = new WeakSet<object>();
  return (error) => {
    if (typeof error === 'object' && error !== null && masked.has(error)) return error as Error;
    const result = maskError(error, MASKED_MESSAGE, false);
    if (result !== error) logger.error({ args: [error] }, 'yoga');
    masked.add(result);
    return result;
  };
}

/** `result` with its errors masked; the same object when it has none. */
export function maskResult<T extends ExecutionResult>(result: T, mask: MaskError): T {
  return result.errors?.length ? { ...result, errors: result.errors.map((error) => mask(error) as GraphQLError) } : result;
}

/**
 * Masks subscriptions where yoga's `maskedErrors` would, without its two iterators around every
 * subscriber's stream (a masking `onNext` and an error catcher: ~14 % of the CPU of a fan-out to
 * 10,000 sockets, issue 14). Events are masked once per execution where they are built and
 * shared, and errors thrown by a stream where it is read (both in useSharedSubscriptionEvents);
 * this plugin masks a subscribe's single result (an error before the stream), after every other
 * plugin's `onSubscribeResult` as yoga's did. It runs the subscribe itself and stops there
 * (envelop's `setResultAndStopExecution`), which leaves out the hooks after it: it must be the
 * last plugin given to yoga, whose own hooks after the user's are then only its masking ones
 * (graphql-yoga 5.24: the AbortError rethrow and `useMaskedErrors`). yoga's masking of everything
 * else (queries, mutations, errors thrown outside execution) is untouched.
 */
export function useMaskedSubscriptions(mask: MaskError): Plugin {
  const hooks = {
    onSubscribeResult: ({ result, setResult }: { result: unknown; setResult: (result: ExecutionResult) => void }) => {
      if (!isAsyncIterable(result)) {
        const masked = maskResult(result as ExecutionResult, mask);
        if (masked !== result) setResult(masked);
      }
    },
  };
  return {
    async onSubscribe({ args, subscribeFn, setResultAndStopExecution }) {
      setResultAndStopExecution(await subscribeFn(args));
      return hooks;
    },
  };
}

/**
 * What a subscriber gets for an error thrown by its stream: the error masked, except a request's
 * abort (a DOMException AbortError or TimeoutError), which goes through as is, as yoga lets it.
 */
export function maskStreamError(error: unknown, mask: MaskError): unknown {
  const aborted = error instanceof DOMException && (error.name === 'AbortError' || error.name === 'TimeoutError');
  return aborted ? error : mask(error);
}
