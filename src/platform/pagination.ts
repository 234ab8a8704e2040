import { ValidationError } from './errors.ts';
import { err, ok, type Result } from './result.ts';

/** Relay connection arguments as clients send them. */
export interface PageArgs {
  readonly first?: number | null;
  readonly after?: string | null;
  readonly last?: number | null;
  readonly before?: string | null;
  /**
   * Not a client argument: set by the GraphQL layer when the selection reads the connection's
   * `totalCount`, so the page's statement counts too (no round trip of its own).
   */
  readonly withTotalCount?: boolean;
}

/** Page size when a client sends neither `first` nor `last`. */
export const DEFAULT_PAGE_SIZE = 20;
/** Upper bound for `first` and `last` (issue #2: capped at 100). */
export const MAX_PAGE_SIZE = 100;

/**
 * Validated window: exactly one direction with a bounded size; `withTotalCount` when the caller
 * will read `totalCount` (the page is then counted by the same statement).
 */
export type PageWindow = (
  | { readonly first: number; readonly after?: string; readonly last?: undefined; readonly before?: undefined }
  | { readonly last: number; readonly before?: string; readonly first?: undefined; readonly after?: undefined }
) & { readonly withTotalCount?: boolean };

/**
 * Checks connection arguments: `first`/`last` within 0..100, not both, `after` only with forward
 * paging and `before` only with backward paging. Defaults to the first {@link DEFAULT_PAGE_SIZE}.
 * @returns the window, or a VALIDATION_FAILED error naming each bad argument.
 */
export function toPageWindow(args: PageArgs): Result<PageWindow, ValidationError> {
  const issues: { path: string[]; message: string }[] = [];
  const { first, after, last, before } = args;
  for (const [name, value] of [['first', first], ['last', last]] as const) {
    if (value != null && (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE)) {
      issues.push({ path: [name], message: `must be an integer between 0 and ${MAX_PAGE_SIZE}` });
    }
  }
  if (first != null && last != null) issues.push({ path: ['last'], message: 'cannot be combined with first' });
  if (last != null && after != null) issues.push({ path: ['after'], message: 'cannot be combined with last' });
  if (first != null && before != null) issues.push({ path: ['before'], message: 'cannot be combined with first' });
  if (issues.length > 0) return err(new ValidationError(issues, 'Invalid pagination arguments'));
  const counted = args.withTotalCount ? { withTotalCount: true } : {};
  if (last != null || (before != null && first == null)) {
    return ok({ last: last ?? DEFAULT_PAGE_SIZE, ...(before != null ? { before } : {}), ...counted });
  }
  return ok({ first: first ?? DEFAULT_PAGE_SIZE, ...(after != null ? { after } : {}), ...counted });
}

/** One page of a keyset-paginated list, in display order, each item with its opaque cursor. */
export interface Page<T> {
  readonly edges: readonly { readonly node: T; readonly cursor: string }[];
  readonly pageInfo: {
    readonly hasNextPage: boolean;
    readonly hasPreviousPage: boolean;
    readonly startCursor: string | null;
    readonly endCursor: string | null;
  };
  /**
   * Counts every item matching the filter (not only this page): the count the page's statement
   * carried when the window asked `withTotalCount`, else a query run only when called.
   */
  readonly totalCount: () => Promise<number>;
}

/** Maps the items of a page, keeping cursors and page info. */
export function mapPage<T, U>(page: Page<T>, map: (item: T) => U): Page<U> {
  return { ...page, edges: page.edges.map((edge) => ({ node: map(edge.node), cursor: edge.cursor })) };
}

/** The error for a cursor that this list did not issue (tampered, or from another ordering). */
export const invalidCursor = (argument: 'after' | 'before'): ValidationError =>
  ValidationError.of([argument], 'is not a cursor issued by this connection with this ordering');
