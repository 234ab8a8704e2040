import { handleStreamOrSingleExecutionResult, type Plugin as EnvelopPlugin } from '@envelop/core';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

// graphql-js appends " Did you mean …?" (a field, argument, type, enum value or input field
// name) to validation and variable-coercion messages; names cannot contain "?".
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/**
 * Tidies the errors of a result that never reached the resolvers (variables that do not coerce,
 * no operation to run): gives them BAD_USER_INPUT like every other client error has a code, and
 * removes suggestions when they are hidden.
 */
function tidy(result: ExecutionResult, hideSuggestions: boolean): void {
  const requestError = !('data' in result) || result.data == null;
  for (const error of (result.errors ?? []) as GraphQLError[]) {
    if (hideSuggestions && error.message.includes('Did you mean')) error.message = error.message.replace(SUGGESTION, '');
    if (requestError && error.extensions?.['code'] === undefined && error.path === undefined) {
      (error.extensions as Record<string, unknown>)['code'] = 'BAD_USER_INPUT';
    }
  }
}

/**
 * Client-facing error hygiene on every transport (HTTP, SSE, graphql-ws):
 * - with `hideSuggestions`, no "Did you mean …?", which lets a client without introspection map
 *   the schema name by name: graphql-armor's blockFieldSuggestion covers validation errors, and
 *   errors of variables (coerced during execution) are scrubbed here;
 * - request errors raised by graphql-js during execution get `extensions.code` BAD_USER_INPUT.
 */
export function useClientErrors(options: { hideSuggestions: boolean }): Plugin {
  const { hideSuggestions } = options;
  const fromExecution: EnvelopPlugin = {
    onExecute: () => ({
      onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, ({ result }) => tidy(result, hideSuggestions)),
    }),
    onSubscribe: () => ({
      onSubscribeResult: ({ result }) => {
        if (!(Symbol.asyncIterator in Object(result))) tidy(result as ExecutionResult, hideSuggestions);
      },
    }),
  };
  return {
    onPluginInit({ addPlugin }) {
      if (hideSuggestions) {
        addPlugin(
          EnvelopArmorPlugin({
            blockFieldSuggestion: { enabled: true, mask: '' },
            costLimit: { enabled: false },
            maxAliases: { enabled: false },
            maxDepth: { enabled: false },
            maxDirectives: { enabled: false },
            maxTokens: { enabled: false },
          }) as Plugin,
        );
      }
      addPlugin(fromExecution as Plugin);
    },
  };
}
