import { handleStreamOrSingleExecutionResult, type Plugin as EnvelopPlugin } from '@envelop/core';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, type DocumentNode, type ExecutionResult, type SourceLocation } from 'graphql';
import type { Plugin } from 'graphql-yoga';

// graphql-js appends " Did you mean …?" (a field, argument, type, enum value or input field
// name) to validation and variable-coercion messages; names cannot contain "?".
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/**
 * Tidies the errors of a result that never reached the resolvers (variables that do not coerce,
 * no operation to run): gives them BAD_USER_INPUT like every other client error has a code, and
 * removes suggestions when they are hidden.
 * @returns the same result when nothing changes, else a copy with new error objects (graphql-jit's
 * errors are frozen: read-only message, no extensions object).
 */
function tidy(result: ExecutionResult, hideSuggestions: boolean, document?: DocumentNode): ExecutionResult {
  if (!result.errors?.length) return result;
  const requestError = !('data' in result) || result.data == null;
  const source = document?.loc?.source;
  let changed = false;
  const errors = result.errors.map((error) => {
    const message = hideSuggestions ? error.message.replace(SUGGESTION, '') : error.message;
    const needsCode = requestError && error.extensions?.['code'] === undefined && error.path === undefined;
    // graphql-jit's errors carry `locations` but neither nodes nor positions, from which yoga
    // rebuilds them when it writes the response: positions in the source keep them.
    const needsPositions = !error.nodes && !error.positions && error.locations !== undefined && source !== undefined;
    if (message === error.message && !needsCode && !needsPositions) return error;
    changed = true;
    return new GraphQLError(message, {
      nodes: error.nodes,
      source: needsPositions ? source : error.source,
      positions: needsPositions ? error.locations!.map((location) => positionOf(source!.body, location)) : error.positions,
      path: error.path,
      originalError: error.originalError,
      extensions: needsCode ? { ...error.extensions, code: 'BAD_USER_INPUT' } : error.extensions,
    });
  });
  return changed ? { ...result, errors } : result;
}

/** The character offset of a 1-based line and column in `body` (lines end at \r\n, \n or \r, as graphql-js counts them). */
function positionOf(body: string, location: SourceLocation): number {
  let offset = 0;
  for (let line = 1; line < location.line; line += 1) {
    const end = body.slice(offset).search(/\r\n|[\n\r]/);
    if (end < 0) break;
    offset += end + (body.startsWith('\r\n', offset + end) ? 2 : 1);
  }
  return offset + location.column - 1;
}

/**
 * Client-facing error hygiene on every transport (HTTP, SSE, graphql-ws):
 * - with `hideSuggestions`, no "Did you mean …?", which lets a client without introspection map
 *   the schema name by name: graphql-armor's blockFieldSuggestion covers validation errors, and
 *   errors of variables (coerced during execution) are scrubbed here;
 * - request errors raised by graphql-js during execution get `extensions.code` BAD_USER_INPUT.
 *
 * It goes before every plugin that reads results (logs, metrics, traces: their hooks run in plugin
 * order), so they record the code the client gets: a client's mistake is never counted as an
 * INTERNAL_SERVER_ERROR, the code an unexpected error keeps (yoga masks it after every plugin).
 */
export function useClientErrors(options: { hideSuggestions: boolean }): Plugin {
  const { hideSuggestions } = options;
  const fromExecution: EnvelopPlugin = {
    onExecute: ({ args }) => ({
      onExecuteDone: (payload) =>
        handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => {
          const tidied = tidy(result as ExecutionResult, hideSuggestions, args.document);
          if (tidied !== result) setResult(tidied);
        }),
    }),
    onSubscribe: () => ({
      onSubscribeResult: ({ result, setResult }) => {
        if (Symbol.asyncIterator in Object(result)) return;
        const tidied = tidy(result as ExecutionResult, hideSuggestions);
        if (tidied !== result) setResult(tidied);
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
