import { expect } from 'vitest';
import type { Page, PageWindow } from '../../src/platform/pagination.ts';

/** Reads one page of a list under test for a window (throws on an error result). */
export type PageReader = (window: PageWindow) => Promise<Page<{ readonly id: string }>>;

/**
 * Pages forward to the end, checking `hasPreviousPage` and full pages on the way; `onPage` may
 * check more of each page. Returns the ids in visit order; throws after 50 pages.
 */
export async function walkForward(read: PageReader, size: number, onPage: (page: Page<{ readonly id: string }>) => void = () => {}): Promise<string[]> {
  const seen: string[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 50; pages += 1) {
    const current = await read(after === undefined ? { first: size } : { first: size, after });
    seen.push(...current.edges.map((edge) => edge.node.id));
    expect(current.pageInfo.hasPreviousPage).toBe(after !== undefined);
    onPage(current);
    if (!current.pageInfo.hasNextPage) return seen;
    expect(current.edges).toHaveLength(size);
    after = current.pageInfo.endCursor ?? undefined;
  }
  throw new Error('paging did not end');
}

/** Pages backward from the end to the start, checking `hasNextPage` and full pages; returns the ids in display order. */
export async function walkBackward(read: PageReader, size: number): Promise<string[]> {
  const pages: string[][] = [];
  let before: string | undefined;
  for (let n = 0; n < 50; n += 1) {
    const current = await read(before === undefined ? { last: size } : { last: size, before });
    pages.unshift(current.edges.map((edge) => edge.node.id));
    expect(current.pageInfo.hasNextPage).toBe(before !== undefined);
    if (!current.pageInfo.hasPreviousPage) return pages.flat();
    expect(current.edges).toHaveLength(size);
    before = current.pageInfo.startCursor ?? undefined;
  }
  throw new Error('paging did not end');
}
