import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

// yoga's own `maxRequestBodySize` pipes every body through a TransformStream; finishing that
// pipeline aborts an AbortController, which builds a DOMException with a stack trace: ~5 % of
// the CPU of a small query (issue 6 profile). When Content-Length is given, Node's HTTP parser
// never hands over more bytes than it says, so checking the header is enough; only a body
// without one (chunked) is counted as it streams.

const CONTENT_LENGTH = /^\d+$/;

const tooLarge = () => new GraphQLError('Request body too large', { extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413 } } });
const badLength = () => new GraphQLError('Content-Length header is invalid.', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });

/**
 * Caps request bodies at `maxBytes` with yoga's errors (413 REQUEST_ENTITY_TOO_LARGE, 400
 * BAD_REQUEST for a malformed Content-Length, before the body is read); replaces yoga's
 * `maxRequestBodySize`, which must be `false` when this plugin is used.
 * @param maxBytes the largest accepted body, in bytes.
 */
export function useRequestBodyLimit(maxBytes: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const length = request.headers.get('content-length');
      if (length !== null) {
        // A list such as "10, 10" (request smuggling) is refused, not read as a number.
        if (!CONTENT_LENGTH.test(length)) throw badLength();
        if (Number(length) > maxBytes) throw tooLarge();
        return;
      }
      if (!requestParser || request.body == null) return;
      const parse = requestParser;
      setRequestParser((original) => {
        let read = 0;
        const counted = original.body!.pipeThrough(
          new fetchAPI.TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              read += chunk.byteLength;
              if (read > maxBytes) controller.error(tooLarge());
              else controller.enqueue(chunk);
            },
          }),
        );
        return parse(new fetchAPI.Request(original.url, { method: original.method, headers: original.headers, signal: original.signal, body: counted, duplex: 'half' } as RequestInit));
      });
    },
  };
}
