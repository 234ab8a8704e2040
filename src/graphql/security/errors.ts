import { GraphQLError } from 'graphql';

/** `extensions.code` of a document refused by a limit (depth, aliases, tokens, directives, cost). */
export const LIMIT_CODE = 'GRAPHQL_VALIDATION_FAILED';
/** `extensions.code` of a request refused by a rate limit. */
export const RATE_LIMITED_CODE = 'RATE_LIMITED';

/** What a limit error says when the limits must not be revealed (production). */
export const HIDDEN_LIMIT_MESSAGE = 'The operation is too large or too complex.';

/**
 * The error for a document over a limit: GRAPHQL_VALIDATION_FAILED, like any other invalid
 * document. `detail` (e.g. "Query depth limit of 7 exceeded, found 9.") is shown only
 * when `exposeLimits`; graphql-armor's "Syntax Error: " prefix is dropped since the syntax is fine.
 */
export function limitError(detail: string, exposeLimits: boolean): GraphQLError {
  const message = exposeLimits ? detail.replace(/^Syntax Error: /, '') : HIDDEN_LIMIT_MESSAGE;
  // `spec`: HTTP status as for any invalid document (400, or 200 to `application/json` clients).
  return new GraphQLError(message, { extensions: { code: LIMIT_CODE, http: { status: 400, spec: true } } });
}

/**
 * The error for a request over a rate limit: HTTP 429 with `Retry-After` (whole seconds, at least
 * 1) and the same number in `extensions.retryAfterSeconds` for clients that cannot read headers
 * (graphql-ws).
 */
export function rateLimitedError(retryAfterSeconds: number, what = 'requests'): GraphQLError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new GraphQLError(`Too many ${what}; retry in ${seconds} s`, {
    extensions: { code: RATE_LIMITED_CODE, retryAfterSeconds: seconds, http: { status: 429, headers: { 'Retry-After': String(seconds) } } },
  });
}
