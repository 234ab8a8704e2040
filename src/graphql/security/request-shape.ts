import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** The methods GraphQL over HTTP defines (CORS preflights, OPTIONS, are answered before any of this). */
const ALLOW = 'GET, POST';
/** Query-string parameters that name an operation: the document, or a trusted document's id. */
const OPERATION_PARAMS = ['query', 'documentId', 'extensions'] as const;

const methodNotAllowed = () =>
  new GraphQLError('GraphQL over HTTP uses GET and POST only.', { extensions: { code: 'BAD_REQUEST', http: { status: 405, headers: { Allow: ALLOW } } } });

const noQuery = () =>
  // No `http.spec`: 400 also for clients accepting application/json, for which yoga would answer
  // its own "Must provide query string." with 200 (the spec's 200 is for well-formed requests).
  new GraphQLError('The request has no query: send one in the `query` parameter (GET) or in a JSON body (POST).', {
    extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
  });

/**
 * Checks the request line before anything reads headers or body (first among the plugins):
 * - a method other than GET and POST gets 405 with `Allow: GET, POST` (GraphQL over HTTP), where
 *   yoga's own check, which runs after the other plugins, came after CSRF prevention's 403;
 * - a GET naming no operation (no `query`, `documentId` or `extensions`) gets 400: there is
 *   nothing to run, whoever sent it. GraphiQL, for a browser asking for HTML, is served before.
 */
export function useRequestLine(): Plugin {
  return {
    onRequestParse({ request, url }) {
      if (request.method !== 'GET' && request.method !== 'POST') throw methodNotAllowed();
      if (request.method === 'GET' && !OPERATION_PARAMS.some((name) => url.searchParams.has(name))) throw noQuery();
    },
  };
}

/**
 * A request whose parameters hold no query gets 400 BAD_REQUEST whatever it accepts. Goes after
 * the trusted-documents plugin, which turns a document id into the query (and answers a request
 * with neither itself).
 */
export function useRequiredQuery(): Plugin {
  return {
    onParams({ params }) {
      if (params.query == null) throw noQuery();
    },
  };
}
