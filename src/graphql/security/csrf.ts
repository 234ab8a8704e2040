import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/**
 * Headers that mark a request as sent by script, which browsers only send cross-site after a
 * CORS preflight: yoga's own and the ones Apollo clients send.
 */
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'graphql-preflight', 'apollo-require-preflight', 'x-apollo-operation-name'] as const;

/** The one of {@link CSRF_HEADERS} that Ordergraph's GraphiQL sends on every request (src/graphql/graphiql.ts). */
export const GRAPHIQL_CSRF_HEADER = CSRF_HEADERS[0];

/** `extensions.code` of a request refused by CSRF prevention (HTTP 403; docs/security.md). */
export const CSRF_HEADER_REQUIRED = 'CSRF_HEADER_REQUIRED';

/**
 * yoga's CSRF prevention: a GraphQL request with no content type (every GET, so also an SSE
 * subscription over GET) or a "simple" one (`text/plain`, `application/x-www-form-urlencoded`,
 * `multipart/form-data`: what a cross-site form, `<img>`, `EventSource` or no-preflight `fetch`
 * sends) must carry one of {@link CSRF_HEADERS}, which a browser sends cross-site only after a CORS
 * preflight; else it is refused with 403 and `extensions.code` {@link CSRF_HEADER_REQUIRED} (yoga's
 * own error has no code). Other content types (`application/json`: clients, GraphiQL's POSTs) need
 * no header: browsers preflight them cross-site. GraphiQL sends {@link GRAPHIQL_CSRF_HEADER} on
 * every request, its subscriptions (GET, `accept: text/event-stream`) included. Mutations over GET
 * are refused with 405 by yoga itself.
 */
export function useCsrfPrevention(): Plugin {
  const yogaCsrf = useCSRFPrevention({ requestHeaders: [...CSRF_HEADERS] });
  return {
    onRequestParse(payload) {
      try {
        return yogaCsrf.onRequestParse!(payload as never);
      } catch {
        // The plugin's only failure: no CSRF header on a request that needs one.
        throw createGraphQLError(`Required CSRF header(s) not present: send one of ${CSRF_HEADERS.join(', ')}, or POST the request as application/json`, {
          extensions: { code: CSRF_HEADER_REQUIRED, http: { status: 403 } },
        });
      }
    },
  };
}
