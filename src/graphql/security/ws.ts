import { GraphQLError } from 'graphql';
import { documentHash, persistedDocumentId, type TrustedDocuments } from './trusted-documents.ts';

/** A graphql-ws subscribe message's payload (graphql-ws has already checked its shape). */
export interface SubscribePayload {
  readonly query: string;
  readonly operationName?: string | null;
  readonly extensions?: Record<string, unknown> | null;
}

/**
 * Trusted documents over graphql-ws, where yoga's HTTP plugin does not run: the payload names a
 * trusted document by id (`query` empty, as graphql-ws requires a string) or carries a document
 * text whose hash is in the manifest.
 * @returns the document text to run, or the error to send for this operation (the socket stays open).
 */
export function resolveTrustedDocument(documents: TrustedDocuments, payload: SubscribePayload): string | GraphQLError {
  if (payload.query.length > 0) {
    if (documents.has(documentHash(payload.query))) return payload.query;
    return new GraphQLError('Only trusted documents are executed here: send a document id, not a query', { extensions: { code: 'PERSISTED_QUERY_ONLY' } });
  }
  const id = persistedDocumentId({ query: undefined, extensions: payload.extensions ?? undefined });
  if (id === null) {
    return new GraphQLError('Send the id of a trusted document (extensions.persistedQuery.sha256Hash)', { extensions: { code: 'PERSISTED_QUERY_ID_REQUIRED' } });
  }
  return documents.get(id) ?? new GraphQLError('No trusted document has this id', { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });
}

/** The error for a subscribe message beyond the per-socket cap (the socket stays open). */
export function tooManySubscriptions(limit: number): GraphQLError {
  return new GraphQLError(`At most ${limit} operations may run at once on one socket`, { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } });
}

/** graphql-ws close code and reason when the socket's access token expires (the client reconnects with a fresh one). */
export const TOKEN_EXPIRED_CLOSE = { code: 4403, reason: 'Forbidden: access token expired' } as const;
