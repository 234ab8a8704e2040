import type { Plugin } from 'graphql-yoga';
import type { GraphQLError } from 'graphql';

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
