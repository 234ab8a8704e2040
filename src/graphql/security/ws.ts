import { GraphQLError } from 'graphql';
import type { Viewer } from '../../platform/op-context.ts';
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

/** graphql-ws close code and reason when a token renewal (a ping with `authorization`) is refused: invalid, expired, or for another viewer. */
export const TOKEN_RENEWAL_REFUSED_CLOSE = { code: 4403, reason: 'Forbidden: renewal token invalid, expired or for another viewer' } as const;

/**
 * The `authorization` of a graphql-ws ping's payload (`{ "authorization": "Bearer <JWT>" }`, the
 * shape of connection_init's payload; `Authorization` also accepted): a token renewal. Undefined
 * for a plain ping (no payload, or none of these keys).
 */
export function renewalTokenOf(payload: unknown): unknown {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { authorization, Authorization } = payload as { authorization?: unknown; Authorization?: unknown };
  return authorization ?? Authorization;
}

/**
 * Whether a renewed token's viewer may take over a socket: the same kind, subject and role.
 * A role that changed (an admin demoted, a customer promoted) needs a new socket: the running
 * subscriptions were authorized, and share their results (src/graphql/shared-subscriptions.ts),
 * as the old viewer.
 */
export function sameViewer(current: Viewer, renewed: Viewer): boolean {
  if (current.kind === 'customer' && renewed.kind === 'customer') return current.customerId === renewed.customerId && current.role === renewed.role;
  if (current.kind === 'system' && renewed.kind === 'system') return current.name === renewed.name;
  return false;
}
