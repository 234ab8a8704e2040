import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { limitError } from './errors.ts';
import { DOCUMENT_LIMITS, MEASURE_MODEL } from './limits.ts';

/** Document limits as numbers; {@link DOCUMENT_LIMITS} unless a test tightens them. */
export type DocumentLimits = { readonly [K in keyof typeof DOCUMENT_LIMITS]: number };

/**
 * graphql-armor's depth, alias, directive, token and cost limits (cost here on the document as
 * written; the cost with page sizes bound is checked before execution by the rate limits plugin).
 * A document over a limit stops being parsed or validated at once and gets HTTP 400 with
 * GRAPHQL_VALIDATION_FAILED; the message names the limit only when `exposeLimits` (not in
 * production). Suggestions are handled by useHiddenSuggestions.
 */
export function useDocumentLimits(options: { exposeLimits: boolean; limits?: DocumentLimits }): Plugin {
  const limits = options.limits ?? DOCUMENT_LIMITS;
  const { exposeLimits } = options;
  // Thrown from armor's visitor (or lexer, for tokens) so that nothing more of a hostile
  // document is walked; armor's own rejection would throw an error without a code or status.
  const reject = [
    (_context: unknown, error: GraphQLError) => {
      throw limitError(error.message, exposeLimits);
    },
  ];
  const common = { exposeLimits, propagateOnRejection: false, onReject: reject };
  return EnvelopArmorPlugin({
    blockFieldSuggestion: { enabled: false },
    maxDepth: { ...common, n: limits.depth, flattenFragments: MEASURE_MODEL.flattenFragments, ignoreIntrospection: true },
    maxAliases: { ...common, n: limits.aliases },
    maxDirectives: { ...common, n: limits.directives },
    maxTokens: { ...common, n: limits.tokens },
    costLimit: { ...common, ...MEASURE_MODEL.cost, maxCost: limits.cost, ignoreIntrospection: true },
  }) as Plugin;
}
