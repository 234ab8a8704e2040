import { decodeGlobalID } from '@pothos/plugin-relay';
import { isUuid } from '../platform/uuid.ts';

/**
 * Decodes a Relay global id of the given type into the internal UUID.
 * @returns undefined for anything else (malformed, another type, not a UUID), so callers can treat
 * it like a missing id.
 */
export function parseGlobalId(globalId: string, typename: string): string | undefined {
  if (globalId.length > 200) return undefined;
  try {
    const decoded = decodeGlobalID(globalId);
    return decoded.typename === typename && isUuid(decoded.id) ? decoded.id.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}
