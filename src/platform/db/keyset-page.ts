import { err, ok, type Result } from '../result.ts';
import type { ValidationError } from '../errors.ts';
import { invalidCursor, type Page, type PageWindow } from '../pagination.ts';
import { textIssue } from '../text.ts';
import { parseIsoInstant } from '../timestamps.ts';
import { isUuid } from '../uuid.ts';

/**
 * One column of a keyset ordering: its SQL name, the property of a selected row that holds it,
 * and how its cursor value is written (a timestamp as an ISO string, an integer as a JSON
 * number, a uuid as its string: the encoding MikroORM's `Cursor` gives the same entity).
 */
export interface KeysetColumn {
  readonly column: string;
  readonly key: string;
  readonly kind: 'timestamp' | 'integer' | 'uuid';
}

/** Runs one SQL statement with `?` placeholders (MikroORM's raw `execute`) and returns its rows. */
export type RunSql = <R>(sql: string, params: readonly unknown[]) => Promise<R[]>;

/** Longest cursor accepted (a base64url JSON array of a few keys is far shorter). */
export const MAX_CURSOR_CHARS = 1_024;

/** Cursor: base64url of the JSON array of the ordering's values (MikroORM `Cursor.encode`). */
const encodeCursor = (values: readonly unknown[]): string => Buffer.from(JSON.stringify(values)).toString('base64url');

function cursorValue(row: Record<string, unknown>, column: KeysetColumn): unknown {
  const value = row[column.key];
  if (column.kind === 'timestamp') return new Date(value as string | Date).toISOString();
  if (column.kind === 'integer') return Number(value);
  return value;
}

/** The values of a cursor of this ordering, or undefined when it is not one (tampered, other ordering). */
function decodeCursor(cursor: string, columns: readonly KeysetColumn[]): unknown[] | undefined {
  if (cursor.length > MAX_CURSOR_CHARS) return undefined;
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(values) || values.length !== columns.length) return undefined;
  return columns.every((column, i) => isCursorValue(column.kind, values[i])) ? values : undefined;
}

/**
 * Whether one decoded cursor value can be a key of a column of this kind, as this server writes
 * them: a timestamp exactly in `toISOString` form within PostgreSQL's range (V8's lenient
 * `Date.parse` takes `"1"` or year -271821, which PostgreSQL refuses), a safe integer, a UUID, or
 * text of at most `maxTextLength` characters without control characters. Checked at decode, so a
 * forged cursor never reaches SQL.
 */
export function isCursorValue(kind: KeysetColumn['kind'] | 'text', value: unknown, maxTextLength = MAX_CURSOR_CHARS): boolean {
  if (kind === 'timestamp') return typeof value === 'string' && parseIsoInstant(value) !== undefined;
  if (kind === 'integer') return typeof value === 'number' && Number.isSafeInteger(value);
  if (kind === 'uuid') return typeof value === 'string' && isUuid(value);
  return typeof value === 'string' && textIssue(value, [], { maxLength: maxTextLength }) === undefined;
}

/**
 * Reads one keyset page with a single hand-written statement: `(c1, …, id) < (?, …, ?)` (or `>`)
 * against the cursor, ordered by the columns, one row more than the page to learn whether another
 * page follows. The hot list of issue 6 (orders); MikroORM's `findByCursor` built an entity per
 * row. Cursors and page info are exactly those of `findByCursor` (find-page.ts), so clients see
 * no difference. Every ordering column must be NOT NULL and the last one unique (the id).
 * @param options.select `select … from table` with the columns `map` and `orderBy` read.
 * @param options.where conditions joined with `and` (each with its `?` parameters), or none.
 * @returns the page, or VALIDATION_FAILED (invalidCursor) for a cursor of another ordering;
 * `totalCount` runs `count(*)` with the same conditions only when called.
 */
export async function findKeysetPage<R extends Record<string, unknown>, V>(
  run: RunSql,
  options: {
    readonly select: string;
    readonly from: string;
    readonly where: readonly { readonly sql: string; readonly params: readonly unknown[] }[];
    readonly orderBy: readonly KeysetColumn[];
    readonly direction: 'asc' | 'desc';
    readonly window: PageWindow;
    readonly map: (row: R) => V;
  },
): Promise<Result<Page<V>, ValidationError>> {
  const { select, from, where, orderBy, direction, window, map } = options;
  const backward = window.last !== undefined;
  const size = backward ? window.last : window.first;
  const cursor = backward ? window.before : window.after;
  const filterSql = where.length > 0 ? where.map((w) => w.sql).join(' and ') : undefined;
  const filterParams = where.flatMap((w) => w.params);
  const conditions = filterSql ? [filterSql] : [];
  const params: unknown[] = [...filterParams];
  if (cursor !== undefined) {
    const values = decodeCursor(cursor, orderBy);
    if (!values) return err(invalidCursor(backward ? 'before' : 'after'));
    // Forward on a descending list (or backward on an ascending one) continues with smaller keys.
    const smaller = (direction === 'desc') !== backward;
    const casts = orderBy.map((c) => (c.kind === 'timestamp' ? '?::timestamptz' : c.kind === 'uuid' ? '?::uuid' : '?::bigint'));
    conditions.push(`(${orderBy.map((c) => c.column).join(', ')}) ${smaller ? '<' : '>'} (${casts.join(', ')})`);
    params.push(...values);
  }
  const whereSql = conditions.length > 0 ? ` where ${conditions.join(' and ')}` : '';
  // Backward pages are read in reverse from the cursor, then put back in display order.
  const scan = (direction === 'desc') !== backward ? 'desc' : 'asc';
  const rows = await run<R>(`${select} ${from}${whereSql} order by ${orderBy.map((c) => `${c.column} ${scan}`).join(', ')} limit ${size + 1}`, params);
  const more = rows.length > size;
  if (more) rows.pop();
  if (backward) rows.reverse();
  const cursorOf = (row: R) => encodeCursor(orderBy.map((column) => cursorValue(row, column)));
  return ok({
    // Each edge's cursor is encoded only if the client selects it (most ask for pageInfo.endCursor only).
    edges: rows.map((row) => ({
      node: map(row),
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
    totalCount: async () => {
      const [row] = await run<{ count: string | number }>(`select count(*) as count ${from}${filterSql ? ` where ${filterSql}` : ''}`, filterParams);
      return Number(row?.count ?? 0);
    },
  });
}
