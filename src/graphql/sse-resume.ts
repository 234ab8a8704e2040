// Where an SSE subscription resumes: the Last-Event-ID its client sends on reconnect (ADR 0012).

/**
 * Longest `Last-Event-ID` passed on as is. Our cursors are 28 characters (base64url of 21 bytes,
 * see orders/domain/order-log-cursor.ts); the margin leaves room for a later cursor format.
 */
const MAX_CURSOR_LENGTH = 128;
/** Visible ASCII only: every cursor we send as `id:` is; anything else is not one of ours. */
const VISIBLE_ASCII = /^[\x21-\x7e]*$/;

/**
 * The resume cursor of a subscription request: the `Last-Event-ID` header of an SSE request (the
 * `id:` of the last event the client received, which EventSource and graphql-sse-style fetch
 * clients send when they reconnect); undefined when the operation did not come over HTTP (a
 * graphql-ws operation's context has no `request`) or the header is absent or empty (an empty id
 * resets EventSource's last event id: start live).
 *
 * A value that cannot be a cursor (too long, or not visible ASCII) is not dropped, which would
 * resume silently from now with a gap: it is returned cut to `MAX_CURSOR_LENGTH + 1` characters,
 * so it stays invalid and small, and the cursor decoder rejects it (VALIDATION_FAILED).
 * @param context a GraphQL context built on yoga's server context (`request` when over HTTP).
 */
export function resumeCursorOf(context: unknown): string | undefined {
  const request = (context as { request?: { headers?: { get?: unknown } } } | null | undefined)?.request;
  if (typeof request?.headers?.get !== 'function') return undefined;
  const value = (request.headers as Headers).get('last-event-id')?.trim();
  if (!value) return undefined;
  if (value.length > MAX_CURSOR_LENGTH || !VISIBLE_ASCII.test(value)) return value.slice(0, MAX_CURSOR_LENGTH + 1).replace(/[^\x21-\x7e]/g, '?');
  return value;
}
