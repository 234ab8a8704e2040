import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';

/**
 * Headers that mark a request as sent by script, which browsers only send cross-site after a
 * CORS preflight: yoga's own and the ones Apollo clients send.
 */
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'graphql-preflight', 'apollo-require-preflight', 'x-apollo-operation-name'] as const;

/**
 * yoga's CSRF prevention: a GraphQL request with no content type or a "simple" one
 * (`text/plain`, `application/x-www-form-urlencoded`, `multipart/form-data`, which a cross-site
 * form or `fetch` may send without a preflight) must carry one of {@link CSRF_HEADERS}, or is
 * refused with 403. `application/json` POSTs (every client and GraphiQL) need nothing. Mutations
 * over GET are refused with 405 by yoga itself.
 */
export function useCsrfPrevention(): Plugin {
  return useCSRFPrevention({ requestHeaders: [...CSRF_HEADERS] }) as Plugin;
}
