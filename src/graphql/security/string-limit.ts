import { GraphQLError, type Source } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** `extensions.code` of a request refused because one of its strings is too long. */
export const STRING_TOO_LONG_CODE = 'BAD_USER_INPUT';

/**
 * The first string of `source`'s string literals whose value is longer than `limit` UTF-16 code
 * units, by a scan that stops there: comments are skipped, block strings are measured as written,
 * other strings by their value (escape sequences count as the one character they stand for).
 * A document no longer than `limit` cannot hold one, and is not scanned at all.
 * @returns true when such a literal exists.
 */
export function hasStringLiteralLongerThan(source: string, limit: number): boolean {
  if (source.length <= limit) return false;
  const end = source.length;
  let i = 0;
  while (i < end) {
    const c = source.charCodeAt(i);
    if (c === 0x23 /* # */) {
      while (i < end && source.charCodeAt(i) !== 0x0a && source.charCodeAt(i) !== 0x0d) i += 1;
    } else if (c === 0x22 /* " */ && source.startsWith('"""', i)) {
      const start = i + 3;
      let close = source.indexOf('"""', start);
      // \""" is an escaped triple quote inside the block string, not its end.
      while (close !== -1 && source.charCodeAt(close - 1) === 0x5c) close = source.indexOf('"""', close + 3);
      if ((close === -1 ? end : close) - start > limit) return true;
      i = close === -1 ? end : close + 3;
    } else if (c === 0x22) {
      let length = 0;
      i += 1;
      while (i < end) {
        const d = source.charCodeAt(i);
        if (d === 0x22 || d === 0x0a || d === 0x0d) break;
        if (d === 0x5c /* \ */) {
          // \uXXXX, \u{…} or a one-character escape: one code unit of the value (two for a braced astral).
          if (source.charCodeAt(i + 1) === 0x75 /* u */ && source.charCodeAt(i + 2) === 0x7b /* { */) {
            const brace = source.indexOf('}', i + 3);
            i = brace === -1 ? end : brace + 1;
            length += 2;
          } else {
            i += source.charCodeAt(i + 1) === 0x75 ? 6 : 2;
            length += 1;
          }
        } else {
          i += 1;
          length += 1;
        }
        if (length > limit) return true;
      }
      i += 1;
    } else {
      i += 1;
    }
  }
  return false;
}

/**
 * Where in `value` (a request's variables, extensions…) a string or object key is longer than
 * `limit` UTF-16 code units, walking it without recursion (JSON can nest deeper than the stack).
 * @returns its path such as `$input.lines.0.productId`, or undefined when there is none.
 */
export function longStringPath(value: unknown, limit: number, root: string): string | undefined {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [current, path] = stack.pop()!;
    if (typeof current === 'string') {
      if (current.length > limit) return path;
    } else if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i += 1) stack.push([current[i], `${path}.${i}`]);
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) {
        if (key.length > limit) return path;
        stack.push([item, `${path}.${key}`]);
      }
    }
  }
  return undefined;
}

/**
 * Refuses a request any of whose strings (a string literal of its document, a variable's value or
 * key, the operation name, an extension) is longer than `maxChars`, before the document is parsed:
 * 400 with BAD_USER_INPUT. Every string argument has a far smaller documented maximum, checked
 * with a field path by its use case (docs/security.md); this bound only keeps megabytes of text
 * from being lexed, coerced, costed, logged and sent to PostgreSQL first (issue 10, item 8: a
 * 9 MiB search took 15–25 s and 1.2 GB). Runs on every transport (the graphql-ws path hands its
 * payload to the parser as `params` too), and on every parse, cached documents included.
 */
export function useStringLengthLimit(options: { maxChars: number; exposeLimits: boolean }): Plugin {
  const { maxChars, exposeLimits } = options;
  const refuse = (where: string) =>
    new GraphQLError(exposeLimits ? `A string in the request is longer than ${maxChars} characters (${where}).` : 'A string in the request is too long.', {
      extensions: { code: STRING_TOO_LONG_CODE, http: { status: 400 } },
    });
  return {
    onParse({ context, params }) {
      const request = (context as { params?: { variables?: unknown; operationName?: unknown; extensions?: unknown } }).params;
      if (typeof request?.operationName === 'string' && request.operationName.length > maxChars) throw refuse('the operation name');
      const variable = longStringPath(request?.variables, maxChars, '$');
      if (variable) throw refuse(`variable ${variable.replace(/^\$\./, '$')}`);
      if (longStringPath(request?.extensions, maxChars, 'extensions')) throw refuse('extensions');
      const source = typeof params.source === 'string' ? params.source : (params.source as Source).body;
      if (hasStringLiteralLongerThan(source, maxChars)) throw refuse('a string literal of the document');
    },
  };
}
