import { createGraphQLError, type Plugin } from 'graphql-yoga';

/**
 * A GraphQL request in a content type no parser reads gets a GraphQL error body with 415, where
 * yoga would answer 415 with an empty body: every reply of the endpoint stays a GraphQL response.
 * Runs after yoga's parsers had their turn (they register before user plugins).
 */
export function useUnsupportedMediaTypeError(): Plugin {
  return {
    onRequestParse({ requestParser }) {
      if (requestParser) return;
      throw createGraphQLError('Send GraphQL requests as application/json (POST) or in the query string (GET)', {
        extensions: { code: 'UNSUPPORTED_MEDIA_TYPE', http: { status: 415 } },
      });
    },
  };
}
