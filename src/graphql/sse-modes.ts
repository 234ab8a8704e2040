import type { Plugin } from 'graphql-yoga';

/** `extensions.code` of the refusal of graphql-sse's single connection mode (HTTP 405). */
export const SSE_SINGLE_CONNECTION_UNSUPPORTED = 'SSE_SINGLE_CONNECTION_UNSUPPORTED';

/**
 * Subscriptions over SSE use the GraphQL over SSE protocol's "distinct connections mode" (one
 * streamed GET or POST per subscription: graphql-sse's `createClient` default, GraphiQL, a plain
 * `fetch` with `accept: text/event-stream`). Its "single connection mode" starts with `PUT` to
 * reserve a stream, then sends operations on other requests naming the reservation: state kept by
 * one process, which another instance behind the load balancer (REDIS_URL scale-out) would not
 * know. So that `PUT` gets 405 with `Allow: GET, POST` and a message naming the mode to use, instead
 * of a CSRF or media-type refusal that says nothing about it.
 */
export function useSseSingleConnectionRefusal(graphqlEndpoint: string): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'PUT' || url.pathname !== graphqlEndpoint) return;
      const message =
        `PUT is not supported on ${graphqlEndpoint}: send GraphQL requests with GET or POST. ` +
        "graphql-sse clients: use the distinct connections mode (createClient's default, singleConnection: false); the single connection mode is not supported.";
      endResponse(
        new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code: SSE_SINGLE_CONNECTION_UNSUPPORTED } }] }), {
          status: 405,
          headers: { 'content-type': 'application/json; charset=utf-8', allow: 'GET, POST' },
        }),
      );
    },
  };
}
