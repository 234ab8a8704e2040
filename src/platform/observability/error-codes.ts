import type { GraphQLError } from 'graphql';

/** The code of a refused request by HTTP status, for an error that carries a status but no code. */
const CODE_OF_STATUS: Readonly<Record<number, string>> = { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 429: 'RATE_LIMITED' };

/**
 * The code logs, metrics and traces record for an error: its `extensions.code` (the client's
 * mistakes have one by the time observers read results, see security/client-errors.ts); else,
 * for an error answered with a 4xx status, the code of that status (BAD_REQUEST, FORBIDDEN, …);
 * else INTERNAL_SERVER_ERROR, the code yoga masks unexpected errors with.
 */
export function errorCodeOf(error: GraphQLError | undefined): string {
  const extensions = error?.extensions as { code?: unknown; http?: { status?: unknown } } | undefined;
  if (typeof extensions?.code === 'string') return extensions.code;
  const status = extensions?.http?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return CODE_OF_STATUS[status] ?? 'BAD_REQUEST';
  return 'INTERNAL_SERVER_ERROR';
}

/** The errors of a single result (none for a stream, whose events are counted as they go). */
export function resultErrors(result: unknown): readonly GraphQLError[] {
  if (result === null || typeof result !== 'object' || Symbol.asyncIterator in result) return [];
  const results = Array.isArray(result) ? (result as unknown[]) : [result];
  return results.flatMap((single) => ((single as { errors?: readonly GraphQLError[] } | null)?.errors ?? []) as GraphQLError[]);
}
