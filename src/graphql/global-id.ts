import { decodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import { isUuid } from '../platform/uuid.ts';

/** The types that implement `Node`: the only typenames a global id can carry (a test checks it against the schema). */
export const NODE_TYPES: readonly string[] = ['Customer', 'Order', 'Product'];

// Ours are base64 of "Customer:" and a UUID: 60 characters. Longer ones are not decoded at all.
const MAX_GLOBAL_ID_LENGTH = 200;
// How much of a refused id the error message quotes.
const QUOTED_LENGTH = 64;

/** `{ typename, id }` of a global id naming a node type and a UUID (lower-cased); undefined for anything else. */
function decode(globalId: string): { typename: string; id: string } | undefined {
  if (globalId.length > MAX_GLOBAL_ID_LENGTH) return undefined;
  try {
    const decoded = decodeGlobalID(globalId);
    return NODE_TYPES.includes(decoded.typename) && isUuid(decoded.id) ? { typename: decoded.typename, id: decoded.id.toLowerCase() } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The error for an id that no object of the expected type can have: BAD_USER_INPUT, quoting the
 * id (at most 64 characters). `typename` undefined: any node type was accepted.
 */
function invalidGlobalId(globalId: string, typename?: string): GraphQLError {
  const quoted = JSON.stringify(globalId.length > QUOTED_LENGTH ? `${globalId.slice(0, QUOTED_LENGTH)}…` : globalId);
  const what = typename ? `${/^[AEIOU]/.test(typename) ? 'an' : 'a'} ${typename} id` : 'a global id of this API';
  return new GraphQLError(`${quoted} is not ${what}`, { extensions: { code: 'BAD_USER_INPUT' } });
}

/**
 * Decodes a Relay global id of the given type into the internal UUID.
 * @returns undefined for anything else (malformed, another type, not a UUID), so mutations can
 * answer it with the typed error of a missing id.
 */
export function parseGlobalId(globalId: string, typename: string): string | undefined {
  const decoded = decode(globalId);
  return decoded?.typename === typename ? decoded.id : undefined;
}

/**
 * Decodes a global id argument of a query or subscription field into the internal UUID.
 * @throws GraphQLError BAD_USER_INPUT when it is not a global id of `typename` (a well-formed id of
 * a missing or invisible object passes: the caller answers it like any missing one).
 */
export function requireGlobalId(globalId: string, typename: string): string {
  const id = parseGlobalId(globalId, typename);
  if (id === undefined) throw invalidGlobalId(globalId, typename);
  return id;
}

/**
 * The relay plugin's `decodeGlobalID` (the `node` and `nodes` arguments): a node type and a UUID.
 * @throws GraphQLError BAD_USER_INPUT for anything else, where the plugin's own decoding would
 * throw an error without a code, or hand a non-UUID to SQL or an unknown type to the node loader.
 */
export function decodeNodeId(globalId: string): { typename: string; id: string } {
  const decoded = decode(globalId);
  if (!decoded) throw invalidGlobalId(globalId);
  return decoded;
}
