import { GraphQLError } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';

// yoga's own `maxRequestBodySize` pipes every body through a TransformStream; finishing that
// pipeline aborts an AbortController, which builds a DOMException with a stack trace: ~5 % of
// the CPU of a small query (issue 6 profile). When Content-Length is given, Node's HTTP parser
// never hands over more bytes than it says, so checking the header is enough; only a body
// without one (chunked) is counted as it is read.

const CONTENT_LENGTH = /^\d+$/;
// Only percent-encoded bytes from 0x80 up can break UTF-8 in a query string or form: other
// characters are whole code points already.
const HIGH_BYTE_ESCAPE = /%[89a-f][0-9a-f]/i;
const ESCAPE_RUNS = /(?:%[0-9a-f]{2})+/gi;
// Throws on malformed input (RFC 3629: overlong forms, surrogates, truncated sequences) where
// `request.text()` and `URLSearchParams` would put U+FFFD in their place. Stateless between calls.
const utf8 = new TextDecoder('utf-8', { fatal: true });

const badRequest = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
const tooLarge = () => new GraphQLError('Request body too large', { extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413 } } });
const badLength = () => badRequest('Content-Length header is invalid.');
const bodyNotUtf8 = () => badRequest('The request body is not valid UTF-8.');
const queryStringNotUtf8 = () => badRequest('The query string is not valid UTF-8.');
const notJson = () => badRequest('The request body is not valid JSON.');

/** Whether the first media type of Content-Type is `type`, as yoga's parsers match it. */
function isContentType(request: Request, type: string): boolean {
  const contentType = request.headers.get('content-type')?.split(',')[0];
  return contentType === type || contentType?.startsWith(`${type};`) === true;
}

/**
 * Whether the percent-decoded bytes of `text` (a URL's query or a form body) are UTF-8.
 * Characters between escapes are whole code points, so each run of escapes must be UTF-8 on its
 * own; `decodeURIComponent` refuses one that is not (ECMA-262 Decode), as `URLSearchParams` does not.
 */
function isUtf8Percented(text: string): boolean {
  if (!HIGH_BYTE_ESCAPE.test(text)) return true;
  for (const [run] of text.matchAll(ESCAPE_RUNS)) {
    try {
      decodeURIComponent(run);
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The body's bytes: all of them when Content-Length announced them (checked against the cap
 * already), else counted chunk by chunk.
 * @throws GraphQLError 413 REQUEST_ENTITY_TOO_LARGE past `maxBytes`.
 */
async function bodyBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (request.headers.has('content-length') || request.body == null) {
    // Node's Request and yoga's both have bytes() (no copy); the DOM typings do not list it yet.
    const whole = request as Request & { bytes?: () => Promise<Uint8Array> };
    return whole.bytes ? whole.bytes() : new Uint8Array(await request.arrayBuffer());
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let read = 0;
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    read += next.value.byteLength;
    if (read > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(next.value);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** The body as text. @throws GraphQLError 400 BAD_REQUEST when it is not UTF-8 (RFC 3629). */
function decode(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw bodyNotUtf8();
  }
}

/** A JSON request body as GraphQL parameters (an array is kept for the batching check to refuse). */
function parseJsonBody(text: string): GraphQLParams | GraphQLParams[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the body back and names positions in it.
    throw notJson();
  }
  if (typeof body !== 'object' || body === null) throw badRequest('The request body must be a JSON object.');
  return body as GraphQLParams | GraphQLParams[];
}

/**
 * GET `variables` and `extensions` are JSON in the query string; yoga's parser lets a malformed
 * one escape as a SyntaxError, which would be masked into a 500.
 */
function queryStringJsonError(url: URL): GraphQLError | undefined {
  for (const name of ['variables', 'extensions']) {
    const value = url.searchParams.get(name);
    if (!value) continue;
    try {
      JSON.parse(value);
    } catch {
      return badRequest(`The ${name} parameter is not valid JSON.`);
    }
  }
  return undefined;
}

/**
 * Reads GraphQL requests strictly, with 400 BAD_REQUEST and a clear message (never the parser's
 * own words, with `NODE_ENV=production` or not) for what cannot be read:
 * - bodies capped at `maxBytes` (413 REQUEST_ENTITY_TOO_LARGE; with a Content-Length before the
 *   body is read, 400 for a malformed one); replaces yoga's `maxRequestBodySize`, which must be
 *   `false` when this plugin is used;
 * - bodies and query strings must be UTF-8 (RFC 3629): invalid bytes are refused, not replaced by
 *   U+FFFD (a search or a name would otherwise reach the database altered);
 * - a JSON body must parse and be an object; GET `variables`/`extensions` must parse.
 * Multipart bodies are handed to yoga's parser as they came (their parts may be binary).
 * @param maxBytes the largest accepted body, in bytes.
 */
export function useRequestBody(maxBytes: number): Plugin {
  return {
    onRequestParse({ request, url, requestParser, setRequestParser, fetchAPI }) {
      const length = request.headers.get('content-length');
      if (length !== null) {
        // A list such as "10, 10" (request smuggling) is refused, not read as a number.
        if (!CONTENT_LENGTH.test(length)) throw badLength();
        if (Number(length) > maxBytes) throw tooLarge();
      }
      if (!requestParser) return;
      const parse = requestParser;
      if (request.method === 'GET') {
        if (!isUtf8Percented(url.search)) throw queryStringNotUtf8();
        setRequestParser(async (original) => {
          try {
            return await parse(original);
          } catch (error) {
            throw error instanceof SyntaxError ? (queryStringJsonError(url) ?? badRequest('The query string is not valid.')) : error;
          }
        });
        return;
      }
      if (request.method !== 'POST') return;
      if (isContentType(request, 'application/json') || isContentType(request, 'application/graphql+json')) {
        setRequestParser(async (original) => parseJsonBody(decode(await bodyBytes(original, maxBytes))));
        return;
      }
      const binary = isContentType(request, 'multipart/form-data');
      setRequestParser(async (original) => {
        const bytes = await bodyBytes(original, maxBytes);
        let body: Uint8Array | string = bytes;
        if (!binary) {
          body = decode(bytes);
          if (isContentType(original, 'application/x-www-form-urlencoded') && !isUtf8Percented(body)) throw bodyNotUtf8();
        }
        const headers = new fetchAPI.Headers(original.headers);
        headers.delete('content-length');
        headers.delete('transfer-encoding');
        try {
          return await parse(new fetchAPI.Request(original.url, { method: 'POST', headers, signal: original.signal, body: body as BodyInit }));
        } catch (error) {
          // A form's `variables`/`extensions` that are not JSON.
          throw error instanceof SyntaxError ? badRequest('The variables or extensions parameter is not valid JSON.') : error;
        }
      });
    },
  };
}
