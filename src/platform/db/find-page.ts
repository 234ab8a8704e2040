import { Cursor, CursorError, DriverException, type EntityManager, type EntityName, type FilterQuery, type QueryOrderMap } from '@mikro-orm/postgresql';
import { err, ok, type Result } from '../result.ts';
import type { ValidationError } from '../errors.ts';
import { invalidCursor, type Page, type PageWindow } from '../pagination.ts';

/**
 * Reads one keyset page with MikroORM's `findByCursor`. The ordering must end in a unique key
 * (the id) so that cursors are stable. Tampered cursors, or cursors from another ordering, return
 * VALIDATION_FAILED instead of reaching PostgreSQL as a type error.
 * @returns the page mapped with `map`; `totalCount` issues its COUNT only when called.
 */
export async function findPage<E extends object, V>(
  em: EntityManager,
  entity: EntityName<E>,
  options: {
    readonly where: FilterQuery<E>;
    readonly orderBy: QueryOrderMap<E>[];
    readonly window: PageWindow;
    readonly map: (entity: E) => V;
  },
): Promise<Result<Page<V>, ValidationError>> {
  const { where, orderBy, window, map } = options;
  const cursorArg = window.after !== undefined ? 'after' : window.before !== undefined ? 'before' : undefined;
  const cursorValue = window.after ?? window.before;
  if (cursorArg && cursorValue !== undefined && !isWellFormedCursor(cursorValue, orderBy.length)) {
    return err(invalidCursor(cursorArg));
  }
  let cursor: Cursor<E, never, never, never, false>;
  try {
    cursor = await em.findByCursor(entity, {
      where,
      orderBy,
      includeCount: false,
      disableIdentityMap: true,
      ...(window.first !== undefined ? { first: window.first, after: window.after } : { last: window.last, before: window.before }),
    } as never);
  } catch (error) {
    if (cursorArg && (error instanceof DriverException || error instanceof CursorError)) return err(invalidCursor(cursorArg));
    throw error;
  }
  const items = [...cursor] as E[];
  return ok({
    // Each edge's cursor is encoded only if the client selects it (most ask for pageInfo.endCursor only).
    edges: items.map((item) => ({
      node: map(item),
      get cursor() {
        return cursor.from(item as never);
      },
    })),
    pageInfo: {
      hasNextPage: cursor.hasNextPage,
      hasPreviousPage: cursor.hasPrevPage,
      startCursor: cursor.startCursor,
      endCursor: cursor.endCursor,
    },
    totalCount: () => em.count(entity, where as never),
  });
}

function isWellFormedCursor(value: string, keys: number): boolean {
  if (value.length > 1024) return false;
  try {
    const decoded: unknown = Cursor.decode(value);
    return (
      Array.isArray(decoded) &&
      decoded.length === keys &&
      decoded.every((part) => part === null || ['string', 'number', 'boolean'].includes(typeof part)) &&
      // The last key is the id, never null.
      decoded[keys - 1] != null
    );
  } catch {
    return false;
  }
}
