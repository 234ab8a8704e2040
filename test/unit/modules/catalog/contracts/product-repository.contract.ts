import { beforeAll, describe, expect, it } from 'vitest';
import type { Product } from '../../../../../src/modules/catalog/domain/product.ts';
import type { ProductFilter, ProductOrder, ProductRepository } from '../../../../../src/modules/catalog/application/ports.ts';
import type { PageWindow } from '../../../../../src/platform/pagination.ts';
import { walkBackward, walkForward } from '../../../../support/paging.ts';

// The ProductRepository contract: the cases every implementation passes, the in-memory fake
// (test/fakes/catalog.ts, run by product-repository.fake.test.ts) and the PostgreSQL one (run by
// test/integration/modules/catalog/contracts/product-repository.postgres.test.ts), so the fake
// the use-case tests stand on cannot drift from SQL. Each case makes its own rows, marked with a
// token of its own in name and SKU, and reads lists through a search for it: the database a run
// uses may hold other rows.

const T0 = Date.UTC(2020, 0, 1);
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A token of letters only (a search is literal and case-insensitive), unique per call. */
const token = () => `Q${crypto.randomUUID().replaceAll('-', '').replace(/\d/g, (d) => String.fromCharCode(71 + Number(d))).slice(0, 10).toUpperCase()}`;

let skus = 0;
function productOf(mark: string, fields: Partial<Product> = {}): Product {
  const created = fields.createdAt ?? at(0);
  skus += 1;
  return {
    id: crypto.randomUUID(),
    sku: `${mark}-${skus}`,
    name: `Widget ${mark}`,
    description: 'A widget.',
    priceMinor: 1_999,
    stock: 10,
    active: true,
    createdAt: created,
    updatedAt: created,
    ...fields,
  };
}

/**
 * Runs the contract against the repositories `repo` returns (a fresh one per call is fine; they
 * must share one store).
 */
/** Ids of the `products` that pass `predicate`, in the order a page sorted by `order` lists them (ties by id). */
export function productIdsInOrder(products: readonly Product[], order: ProductOrder, predicate: (p: Product) => boolean = () => true): string[] {
  const sortValue = (p: Product) => (order.field === 'NAME' ? p.name : order.field === 'PRICE' ? p.priceMinor : p.createdAt.getTime());
  return products
    .filter(predicate)
    .sort((a, b) => {
      const [x, y] = [sortValue(a), sortValue(b)];
      const c = x < y ? -1 : x > y ? 1 : byId(a, b);
      return order.direction === 'ASC' ? c : -c;
    })
    .map((p) => p.id);
}

export function describeProductRepositoryContract(name: string, repo: () => ProductRepository): void {
  describe(`${name}: the ProductRepository contract`, () => {
    describe('insert, findByIds, update', () => {
      it('stores a product and reads it back unchanged; leaves out missing ids; [] for none', async () => {
        const mark = token();
        const a = productOf(mark, { priceMinor: 100_000_000, stock: 0, active: false, description: '' });
        const b = productOf(mark);
        expect(await repo().insert(a)).toBe(true);
        expect(await repo().insert(b)).toBe(true);
        expect([...(await repo().findByIds([b.id, crypto.randomUUID(), a.id]))].sort(byId)).toEqual([a, b].sort(byId));
        expect(await repo().findByIds([])).toEqual([]);
      });

      it('answers false for a taken SKU and keeps the first product', async () => {
        const first = productOf(token());
        expect(await repo().insert(first)).toBe(true);
        expect(await repo().insert({ ...productOf(token()), sku: first.sku })).toBe(false);
        expect(await repo().findByIds([first.id])).toEqual([first]);
      });

      it('updates only the given fields and updatedAt (never SKU, stock or createdAt), and answers the stored product', async () => {
        const product = productOf(token());
        await repo().insert(product);
        const when = at(60);
        const expected = { ...product, name: `Renamed ${product.sku}`, active: false, updatedAt: when };
        expect(await repo().update(product.id, { name: expected.name, active: false }, when)).toEqual(expected);
        const later = at(61);
        expect(await repo().update(product.id, { priceMinor: 5 }, later)).toEqual({ ...expected, priceMinor: 5, updatedAt: later });
        expect(await repo().findByIds([product.id])).toEqual([{ ...expected, priceMinor: 5, updatedAt: later }]);
      });

      it('answers undefined when updating a product that does not exist', async () => {
        expect(await repo().update(crypto.randomUUID(), { name: 'Ghost' }, at(1))).toBeUndefined();
      });
    });

    describe('adjustStock', () => {
      it('adds a delta that keeps the stock within 0..max and answers the product with a later updatedAt', async () => {
        const product = productOf(token(), { stock: 5 });
        await repo().insert(product);
        const taken = await repo().adjustStock(product.id, -5, 100);
        expect(taken).toMatchObject({ ...product, stock: 0, updatedAt: expect.any(Date) });
        expect(typeof taken === 'object' && taken.updatedAt > product.updatedAt).toBe(true);
        expect(await repo().adjustStock(product.id, 100, 100)).toMatchObject({ id: product.id, stock: 100 });
      });

      it.each([
        ['below zero', -6],
        ['above the maximum', 96],
      ])("refuses a delta taking the stock %s with 'OUT_OF_RANGE' and leaves it", async (_label, delta) => {
        const product = productOf(token(), { stock: 5 });
        await repo().insert(product);
        expect(await repo().adjustStock(product.id, delta, 100)).toBe('OUT_OF_RANGE');
        expect((await repo().findByIds([product.id]))[0]?.stock).toBe(5);
      });

      it("answers 'NOT_FOUND' for an unknown product", async () => {
        expect(await repo().adjustStock(crypto.randomUUID(), 1, 100)).toBe('NOT_FOUND');
      });
    });

    describePaging(repo);
  });
}

function describePaging(repo: () => ProductRepository): void {
  describe('findPage', () => {
    const mark = token();
    // Ties on every ordering field exercise the id tie-break; names are capitalised words, so any
    // collation orders them as JavaScript does.
    const fixtures = [
      productOf(mark, { name: `Anvil ${mark}`, priceMinor: 9_000, stock: 2, createdAt: at(5) }),
      productOf(mark, { name: `Bolt ${mark}`, priceMinor: 25, stock: 0, createdAt: at(1) }),
      productOf(mark, { name: `Bolt ${mark}`, priceMinor: 25, stock: 300, createdAt: at(3) }),
      productOf(mark, { name: `Cable ${mark}`, priceMinor: 500, stock: 12, createdAt: at(3), active: false }),
      productOf(mark, { name: `Drill ${mark}`, priceMinor: 500, stock: 0, createdAt: at(3) }),
      productOf(mark, { name: `Eraser ${mark}`, priceMinor: 99, stock: 40, createdAt: at(0) }),
    ];
    beforeAll(async () => {
      for (const product of fixtures) await repo().insert(product);
    });
    const mine: ProductFilter = { search: mark };
    const expectedOrder = (order: ProductOrder, predicate: (p: Product) => boolean = () => true) => productIdsInOrder(fixtures, order, predicate);
    const page = async (filter: ProductFilter, order: ProductOrder, window: PageWindow) => {
      const result = await repo().findPage(filter, order, window);
      if (!result.ok) throw result.error;
      return result.value;
    };
    const orders: ProductOrder[] = (['NAME', 'PRICE', 'CREATED_AT'] as const).flatMap((field) => (['ASC', 'DESC'] as const).map((direction) => ({ field, direction })));

    it.each(orders)('orders by $field $direction, then id, and pages both ways over every row once', async (order) => {
      const expected = expectedOrder(order);
      const all = await page(mine, order, { first: 100 });
      expect(all.edges.map((edge) => edge.node)).toEqual(expected.map((id) => fixtures.find((p) => p.id === id)));
      expect(all.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
      for (const size of [1, 4]) {
        expect(await walkForward((window) => page(mine, order, window), size)).toEqual(expected);
        expect(await walkBackward((window) => page(mine, order, window), size)).toEqual(expected);
      }
    });

    it.each<[string, ProductFilter, (p: Product) => boolean]>([
      ['active only', { active: true }, (p) => p.active],
      ['inactive only', { active: false }, (p) => !p.active],
      ['in stock', { inStock: true }, (p) => p.stock > 0],
      ['out of stock', { inStock: false }, (p) => p.stock === 0],
      ['a price range', { minPriceMinor: 99, maxPriceMinor: 500 }, (p) => p.priceMinor >= 99 && p.priceMinor <= 500],
    ])('filters %s and counts the matches, with or without the count in the page read', async (_label, filter, predicate) => {
      const order: ProductOrder = { field: 'PRICE', direction: 'DESC' };
      const expected = expectedOrder(order, predicate);
      expect(await walkForward((window) => page({ ...mine, ...filter }, order, window), 2)).toEqual(expected);
      expect(await (await page({ ...mine, ...filter }, order, { first: 1 })).totalCount()).toBe(expected.length);
      expect(await (await page({ ...mine, ...filter }, order, { first: 1, withTotalCount: true })).totalCount()).toBe(expected.length);
    });

    it('counts past the cursor: totalCount is the filter, not the rest of the list', async () => {
      const order: ProductOrder = { field: 'NAME', direction: 'ASC' };
      const first = await page(mine, order, { first: 2 });
      const after = first.pageInfo.endCursor ?? undefined;
      for (const withTotalCount of [false, true]) {
        expect(await (await page(mine, order, { first: 2, after, withTotalCount })).totalCount()).toBe(fixtures.length);
      }
      const last = await page(mine, order, { last: 1 });
      const beyond = await page(mine, order, { first: 2, after: last.pageInfo.endCursor ?? undefined, withTotalCount: true });
      expect(beyond.edges).toEqual([]);
      expect(await beyond.totalCount()).toBe(fixtures.length);
    });

    it('answers an empty page without cursors when nothing matches, counting 0', async () => {
      for (const withTotalCount of [false, true]) {
        const empty = await page({ search: token() }, { field: 'NAME', direction: 'ASC' }, { first: 5, withTotalCount });
        expect(empty.edges).toEqual([]);
        expect(empty.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
        expect(await empty.totalCount()).toBe(0);
      }
    });

    it.each<[string, ProductOrder['field'], () => string]>([
      ['not base64 JSON', 'NAME', () => 'bm90LWEtY3Vyc29y'],
      ['too few keys', 'NAME', () => Buffer.from(JSON.stringify(['Bolt'])).toString('base64url')],
      ['a string for PRICE', 'PRICE', () => Buffer.from(JSON.stringify(['cheap', crypto.randomUUID()])).toString('base64url')],
      ['a non-date for CREATED_AT', 'CREATED_AT', () => Buffer.from(JSON.stringify(['yesterday', crypto.randomUUID()])).toString('base64url')],
    ])('refuses a cursor it did not issue (%s, %s ordering) with VALIDATION_FAILED', async (_label, field, cursorOf) => {
      const cursor = cursorOf();
      for (const window of [{ first: 2, after: cursor }, { last: 2, before: cursor }] satisfies PageWindow[]) {
        const result = await repo().findPage(mine, { field, direction: 'ASC' }, window);
        expect(!result.ok && result.error.code).toBe('VALIDATION_FAILED');
      }
    });

    it('refuses a cursor of another ordering (NAME sent with PRICE)', async () => {
      const byName = await page(mine, { field: 'NAME', direction: 'ASC' }, { first: 2 });
      const result = await repo().findPage(mine, { field: 'PRICE', direction: 'ASC' }, { first: 2, after: byName.pageInfo.endCursor ?? '' });
      expect(!result.ok && result.error.code).toBe('VALIDATION_FAILED');
    });
  });
}
