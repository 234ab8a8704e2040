import { Cursor, CursorError, DriverException, type EntityManager, type EntityName, type FilterQuery, type QueryOrderMap } from '@mikro-orm/postgresql';
import { err, ok, type Result } from '../result.ts';
import type { ValidationError } from '../errors.ts';
import { invalidCursor, type Page, type PageWindow } from '../pagination.ts';
import { isCursorValue, MAX_CURSOR_CHARS } from './keyset-page.ts';

/**
 * Reads one keyset page with MikroORM's `findByCursor`. The ordering must end in a unique key
 * (the id) so that cursors are stable, and its number properties must be integers. Tampered
 * cursors, or cursors from another ordering, return VALIDATION_FAILED at decode instead of reaching
 * PostgreSQL as a type error.
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
  if (cursorArg && cursorValue !== undefined && !isWellFormedCursor(em, entity, cursorValue, orderBy)) {
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

/** The kind of cursor value a column of this PostgreSQL type takes (see {@link isCursorValue}). */
function cursorKindOf(columnType: string): 'timestamp' | 'integer' | 'uuid' | 'text' {
  if (columnType === 'uuid') return 'uuid';
  if (columnType.startsWith('timestamp')) return 'timestamp';
  if (/^(int|integer|bigint|smallint|int[248])$/.test(columnType)) return 'integer';
  return 'text';
}

/**
 * Whether `value` decodes to one key per ordering property, each of that property's column type
 * ({@link isCursorValue}: a timestamp takes an ISO instant PostgreSQL can store, an integer a safe
 * integer, a uuid a UUID, other columns text without control characters); null only where the
 * property is nullable, and never for the last key, the id.
 */
function isWellFormedCursor<E extends object>(em: EntityManager, entity: EntityName<E>, value: string, orderBy: readonly QueryOrderMap<E>[]): boolean {
  if (value.length > MAX_CURSOR_CHARS) return false;
  let decoded: unknown;
  try {
    decoded = Cursor.decode(value);
  } catch {
    return false;
  }
  const keys = orderBy.flatMap((order) => Object.keys(order));
  if (!Array.isArray(decoded) || decoded.length !== keys.length || decoded.at(-1) == null) return false;
  const properties = em.getMetadata().find(entity)?.properties as Record<string, { columnTypes?: readonly string[]; nullable?: boolean }> | undefined;
  return keys.every((key, i) => {
    const part: unknown = decoded[i];
    const property = properties?.[key];
    if (!property) return false;
    if (part === null) return property.nullable === true;
    const columnType = property.columnTypes?.[0] ?? '';
    const declaredLength = /^varchar\((\d+)\)$/.exec(columnType)?.[1];
    return isCursorValue(cursorKindOf(columnType), part, declaredLength ? Number(declaredLength) : undefined);
  });
}
