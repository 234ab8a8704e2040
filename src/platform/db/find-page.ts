import { Cursor, Utils, type EntityManager, type EntityMetadata, type EntityName, type FilterQuery, type MetadataStorage, type QueryBuilder } from '@mikro-orm/postgresql';
import { err, ok, type Result } from '../result.ts';
import type { ValidationError } from '../errors.ts';
import { invalidCursor, type Page, type PageWindow } from '../pagination.ts';
import { textIssue } from '../text.ts';
import { parseIsoInstant } from '../timestamps.ts';
import { isUuid } from '../uuid.ts';
import { compileSelect, runSelect, slot, type CompiledSelect, type PlainRow } from './compiled-select.ts';

/** Longest cursor accepted (a base64url JSON array of a few keys is far shorter). */
export const MAX_CURSOR_CHARS = 1_024;

/** One key of a page's display order: a property and its direction. */
export type PageOrderKey<E> = readonly [property: keyof E & string, direction: 'asc' | 'desc'];

/** What {@link findPage} reads. */
export interface PageQuery<E> {
  /**
   * Which rows: a MikroORM filter of plain objects (no raw fragments). Its values become slots of
   * the statement kept for this shape, so one statement serves every value.
   */
  readonly where: FilterQuery<E>;
  /** Display order; the last key must be the unique id, and every key's column NOT NULL. */
  readonly orderBy: readonly PageOrderKey<E>[];
  readonly window: PageWindow;
  /** Properties to select (default: every column). */
  readonly fields?: readonly (keyof E & string)[];
}

/**
 * Reads one keyset page with one statement built by MikroORM's QueryBuilder: the filter, the
 * condition "after the cursor" in the form MikroORM's `findByCursor` writes it
 * (`k1 <= v1 and (k1 < v1 or id < v2)`, which PostgreSQL answers from the `(k1, id)` index), the
 * order and `limit n + 1` to learn whether another page follows. With `window.withTotalCount` the
 * same statement also counts every row of the filter (a scalar subquery, not a window count: the
 * count must ignore the cursor), so `totalCount` costs no round trip; only an empty page after a
 * cursor has no row to carry it and counts when asked. Cursors are MikroORM's (`Cursor.for`:
 * base64url JSON of the key values), and tampered ones, or ones of another ordering, give
 * VALIDATION_FAILED before any SQL. Rows are plain objects with property names (runSelect).
 * @returns the page, or VALIDATION_FAILED (invalidCursor).
 */
export async function findPage<E extends object, R extends object = PlainRow<E>>(em: EntityManager, entity: EntityName<E>, query: PageQuery<E>): Promise<Result<Page<R>, ValidationError>> {
  const { window, orderBy } = query;
  const backward = window.last !== undefined;
  const size = backward ? window.last : window.first;
  const cursor = backward ? window.before : window.after;
  const meta = em.getMetadata().get(entity) as EntityMetadata<E>;
  const keys = cursor === undefined ? undefined : decodeCursor(meta, cursor, orderBy);
  if (cursor !== undefined && !keys) return err(invalidCursor(backward ? 'before' : 'after'));
  const values: Record<string, unknown> = { limit: size + 1 };
  keys?.forEach((value, i) => (values[`k${i}`] = value));
  const where = toSlots(query.where, values);
  const withTotalCount = window.withTotalCount === true;
  const statement = pageStatement(em, entity, { where, orderBy, backward, afterCursor: keys !== undefined, withTotalCount, fields: query.fields });
  const rows = await runSelect<R & { totalCount?: number }>(em, statement, values);
  const counted = withTotalCount ? takeCount(rows, cursor === undefined) : undefined;
  const more = rows.length > size;
  if (more) rows.pop();
  if (backward) rows.reverse();
  const definition = orderBy.map(([key, direction]) => ({ [key]: direction }));
  const cursorOf = (row: R) => Cursor.for(meta, row as never, definition as never);
  return ok({
    // Each edge's cursor is encoded only if the client selects it (most ask for pageInfo.endCursor only).
    edges: rows.map((row) => ({
      node: row,
      get cursor() {
        return cursorOf(row);
      },
    })),
    pageInfo: {
      hasNextPage: backward ? cursor !== undefined : more,
      hasPreviousPage: backward ? more : cursor !== undefined,
      startCursor: rows.length > 0 ? cursorOf(rows[0]!) : null,
      endCursor: rows.length > 0 ? cursorOf(rows.at(-1)!) : null,
    },
    totalCount: counted !== undefined ? async () => counted : () => em.count(entity, query.where as never),
  });
}

/**
 * The count the page statement carried, removed from the rows; 0 for an empty page without a
 * cursor (nothing matches the filter); undefined for an empty page after a cursor.
 */
function takeCount(rows: { totalCount?: number }[], fromStart: boolean): number | undefined {
  const count = rows[0]?.totalCount;
  for (const row of rows) delete row.totalCount;
  return count ?? (fromStart ? 0 : undefined);
}

interface PageShape<E> {
  readonly where: FilterQuery<E>;
  readonly orderBy: readonly PageOrderKey<E>[];
  readonly backward: boolean;
  readonly afterCursor: boolean;
  readonly withTotalCount: boolean;
  readonly fields: readonly string[] | undefined;
}

const statements = new WeakMap<MetadataStorage, Map<string, CompiledSelect>>();

/** The page statement of this shape, compiled on first use (the shapes are few: filters present, order, direction). */
function pageStatement<E extends object>(em: EntityManager, entity: EntityName<E>, shape: PageShape<E>): CompiledSelect {
  let byShape = statements.get(em.getMetadata());
  if (!byShape) statements.set(em.getMetadata(), (byShape = new Map()));
  const key = JSON.stringify([Utils.className(entity as EntityName<object>), shape]);
  let statement = byShape.get(key);
  if (!statement) {
    statement = compileSelect(em, entity, (qb) => buildPage(em, entity, qb, shape));
    byShape.set(key, statement);
  }
  return statement;
}

function buildPage<E extends object>(em: EntityManager, entity: EntityName<E>, qb: QueryBuilder<E>, shape: PageShape<E>): QueryBuilder<E> {
  const fields: unknown[] = [...(shape.fields ?? ['*'])];
  if (shape.withTotalCount) fields.push(em.createQueryBuilder(entity, 'total').count().where(shape.where as never).as('totalCount'));
  qb.select(fields as never).where(shape.where as never);
  if (shape.afterCursor) qb.andWhere(afterKeys(shape.orderBy, shape.backward) as never);
  // Backward pages are read in reverse from the cursor, then put back in display order.
  const scan = shape.orderBy.map(([key, direction]) => ({ [key]: (direction === 'desc') !== shape.backward ? 'desc' : 'asc' }));
  return qb.orderBy(scan as never).limit(slot<number>('limit'));
}

/**
 * "Comes after the cursor in scan order" on the slots `k0…kn`, as MikroORM's cursor condition
 * writes it: the first key at or past its value (an index range), then a strict tie-break.
 */
function afterKeys<E>(orderBy: readonly PageOrderKey<E>[], backward: boolean, from = 0): FilterQuery<E> {
  const [key, direction] = orderBy[from]!;
  const past = (direction === 'desc') !== backward ? '$lt' : '$gt';
  const value = slot(`k${from}`);
  if (from === orderBy.length - 1) return { [key]: { [past]: value } } as FilterQuery<E>;
  return { [key]: { [`${past}e`]: value }, $or: [{ [key]: { [past]: value } }, afterKeys(orderBy, backward, from + 1)] } as FilterQuery<E>;
}

/**
 * The filter with each value replaced by a slot (`w0`, `w1`, … in traversal order) whose value goes
 * into `values`: arrays of `$in` become one slot (`in (…)` takes the list); null and empty arrays
 * stay, since they change the SQL (`is null`, a false condition).
 * @throws for raw fragments (symbol keys), whose SQL this cannot see.
 */
function toSlots<E>(where: FilterQuery<E>, values: Record<string, unknown>): FilterQuery<E> {
  const visit = (node: unknown): unknown => {
    if (node === null || node === undefined || (Array.isArray(node) && node.length === 0)) return node;
    if (Array.isArray(node) && node.every((item) => Utils.isPlainObject(item))) return node.map(visit);
    if (Utils.isPlainObject(node)) {
      if (Object.getOwnPropertySymbols(node).length > 0) throw new Error('findPage filters take plain values, not raw fragments');
      return Object.fromEntries(Object.entries(node).filter(([, value]) => value !== undefined).map(([key, value]) => [key, visit(value)]));
    }
    const name = `w${Object.keys(values).length}`;
    values[name] = node;
    return Array.isArray(node) ? [slot(name)] : slot(name);
  };
  return visit(where) as FilterQuery<E>;
}

/** The kind of cursor value a column of this PostgreSQL type takes (see {@link isCursorValue}). */
function cursorKindOf(columnType: string): 'timestamp' | 'integer' | 'uuid' | 'text' {
  if (columnType === 'uuid') return 'uuid';
  if (columnType.startsWith('timestamp')) return 'timestamp';
  if (/^(int|integer|bigint|smallint|int[248])$/.test(columnType)) return 'integer';
  return 'text';
}

/**
 * The key values of a cursor of this ordering, or undefined when it is not one: one key per
 * ordering property, each of that property's column type ({@link isCursorValue}), never null (the
 * ordering's columns are NOT NULL). Checked at decode, so a forged cursor never reaches SQL.
 */
function decodeCursor<E>(meta: EntityMetadata<E>, value: string, orderBy: readonly PageOrderKey<E>[]): unknown[] | undefined {
  if (value.length > MAX_CURSOR_CHARS) return undefined;
  let decoded: unknown;
  try {
    decoded = Cursor.decode(value);
  } catch {
    return undefined;
  }
  if (!Array.isArray(decoded) || decoded.length !== orderBy.length) return undefined;
  const properties = meta.properties as Record<string, { columnTypes?: readonly string[] } | undefined>;
  const valid = orderBy.every(([key], i) => {
    const columnType = properties[key]?.columnTypes?.[0];
    if (columnType === undefined) return false;
    const declaredLength = /^varchar\((\d+)\)$/.exec(columnType)?.[1];
    return isCursorValue(cursorKindOf(columnType), decoded[i], declaredLength ? Number(declaredLength) : undefined);
  });
  return valid ? decoded : undefined;
}

/**
 * Whether one decoded cursor value can be a key of a column of this kind, as this server writes
 * them: a timestamp exactly in `toISOString` form within PostgreSQL's range (V8's lenient
 * `Date.parse` takes `"1"` or year -271821, which PostgreSQL refuses), a safe integer, a UUID, or
 * text of at most `maxTextLength` characters without control characters.
 */
export function isCursorValue(kind: 'timestamp' | 'integer' | 'uuid' | 'text', value: unknown, maxTextLength = MAX_CURSOR_CHARS): boolean {
  if (kind === 'timestamp') return typeof value === 'string' && parseIsoInstant(value) !== undefined;
  if (kind === 'integer') return typeof value === 'number' && Number.isSafeInteger(value);
  if (kind === 'uuid') return typeof value === 'string' && isUuid(value);
  return typeof value === 'string' && textIssue(value, [], { maxLength: maxTextLength }) === undefined;
}
