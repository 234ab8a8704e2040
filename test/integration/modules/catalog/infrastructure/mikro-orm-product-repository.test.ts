import { beforeAll, describe, it, expect } from 'vitest';
import { Cursor } from '@mikro-orm/postgresql';
import { useTestDatabase } from '../../../../support/test-database.ts';
import { walkBackward as walkPagesBackward, walkForward as walkPagesForward } from '../../../../support/paging.ts';
import type { Product } from '../../../../../src/modules/catalog/domain/product.ts';
import type { ProductFilter, ProductOrder, StockLine } from '../../../../../src/modules/catalog/application/ports.ts';
import { MikroOrmProductRepository, SqlStockReservations } from '../../../../../src/modules/catalog/infrastructure/mikro-orm-product-repository.ts';
import type { PageWindow } from '../../../../../src/platform/pagination.ts';
import { productIdsInOrder } from '../../../../unit/modules/catalog/contracts/product-repository.contract.ts';

// Timestamps in the past, so that anything the database stamps with now() is later.
const T0 = Date.UTC(2020, 0, 1);
let skuCounter = 0;
const newProduct = (fields: Partial<Product> = {}): Product => {
  const at = fields.createdAt ?? new Date(T0);
  skuCounter += 1;
  return {
    id: crypto.randomUUID(),
    sku: `T-${skuCounter}-${crypto.randomUUID().slice(0, 8).toUpperCase()}`,
    name: 'Widget',
    description: 'A widget.',
    priceMinor: 1_999,
    stock: 10,
    active: true,
    createdAt: at,
    updatedAt: at,
    ...fields,
  };
};

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const ids = (items: readonly { id: string }[]) => items.map((item) => item.id);

/** Thrown inside `em.transactional` to roll it back. */
class Rollback extends Error {}

describe('MikroOrmProductRepository', () => {
  const database = useTestDatabase();
  const repo = () => new MikroOrmProductRepository(database.orm.em.fork());
  const stockOf = async (id: string) => (await repo().findByIds([id]))[0]?.stock;

  describe('insert, findByIds and update', () => {
    it('stores a product and reads it back unchanged', async () => {
      const product = newProduct({ priceMinor: 100_000_000, stock: 0, active: false, description: '' });
      expect(await repo().insert(product)).toBe(true);
      expect(await repo().findByIds([product.id])).toEqual([product]);
    });

    it('finds several at once, leaves out missing ids, and answers [] for no ids', async () => {
      const a = newProduct();
      const b = newProduct();
      await repo().insert(a);
      await repo().insert(b);
      const found = await repo().findByIds([b.id, crypto.randomUUID(), a.id]);
      expect([...found].sort(byId)).toEqual([a, b].sort(byId));
      expect(await repo().findByIds([])).toEqual([]);
    });

    it('returns false for a taken SKU and keeps the first product', async () => {
      const first = newProduct();
      expect(await repo().insert(first)).toBe(true);
      const second = newProduct({ sku: first.sku, name: 'Impostor' });
      expect(await repo().insert(second)).toBe(false);
      expect(await repo().findByIds([first.id, second.id])).toEqual([first]);
    });

    it('saves name, description, price, active and updatedAt, and never the SKU, stock or createdAt', async () => {
      const product = newProduct({ stock: 7 });
      await repo().insert(product);
      const later = new Date(T0 + 60_000);
      const edited: Product = {
        ...product,
        sku: 'SHOULD-NOT-CHANGE',
        name: 'Renamed',
        description: 'New text.',
        priceMinor: 2_500,
        stock: 999,
        active: false,
        createdAt: later,
        updatedAt: later,
      };
      const { id, name, description, priceMinor, active } = edited;
      expect(await repo().update(id, { name, description, priceMinor, active }, later)).toEqual({ ...product, name, description, priceMinor, active, updatedAt: later });
      expect(await repo().findByIds([product.id])).toEqual([
        { ...product, name: 'Renamed', description: 'New text.', priceMinor: 2_500, active: false, updatedAt: later },
      ]);
    });

    it('returns undefined when updating a product that does not exist', async () => {
      expect(await repo().update(newProduct().id, { name: 'x' }, new Date())).toBeUndefined();
    });
  });

  describe('adjustStock', () => {
    it.each<[string, number, number]>([
      ['adds a delivery', 5, 3],
      ['removes down to exactly zero', 5, -5],
      ['adds up to exactly the limit', 95, 5],
    ])('%s', async (_label, stock, delta) => {
      const product = newProduct({ stock });
      await repo().insert(product);
      const result = await repo().adjustStock(product.id, delta, 100);
      expect(typeof result === 'object' && { id: result.id, stock: result.stock }).toEqual({ id: product.id, stock: stock + delta });
      expect(await stockOf(product.id)).toBe(stock + delta);
    });

    // Regression: the row comes from raw SQL, and MikroORM's pg connection returns timestamptz columns as
    // strings ('2020-01-01 00:00:00+00'); toProduct copies them as they are, so the returned
    // Product has string timestamps, which the GraphQL DateTime scalar refuses to serialise.
    it('returns the whole updated product, with Date timestamps and a moved updatedAt', async () => {
      const product = newProduct({ stock: 5 });
      await repo().insert(product);
      const result = await repo().adjustStock(product.id, 2, 100);
      expect(result).toEqual({ ...product, stock: 7, updatedAt: expect.any(Date) });
      if (typeof result !== 'object') return;
      expect(result.updatedAt.getTime()).toBeGreaterThan(product.updatedAt.getTime());
      expect(await repo().findByIds([product.id])).toEqual([result]);
    });

    it.each<[string, number, number]>([
      ['below zero', 5, -6],
      ['above the limit', 100, 1],
    ])("returns 'OUT_OF_RANGE' for a change %s and keeps the stock", async (_label, stock, delta) => {
      const product = newProduct({ stock });
      await repo().insert(product);
      expect(await repo().adjustStock(product.id, delta, 100)).toBe('OUT_OF_RANGE');
      expect(await repo().findByIds([product.id])).toEqual([product]);
    });

    it("returns 'NOT_FOUND' for an unknown product", async () => {
      expect(await repo().adjustStock(crypto.randomUUID(), 1, 100)).toBe('NOT_FOUND');
    });

    it('is atomic: concurrent write-offs take exactly the units there are, never more', async () => {
      const product = newProduct({ stock: 5 });
      await repo().insert(product);
      const results = await Promise.all(Array.from({ length: 12 }, () => repo().adjustStock(product.id, -1, 100)));
      expect(results.filter((r) => typeof r === 'object')).toHaveLength(5);
      expect(results.filter((r) => r === 'OUT_OF_RANGE')).toHaveLength(7);
      expect(await stockOf(product.id)).toBe(0);
    });

    it('is atomic: concurrent deliveries all count (no lost update)', async () => {
      const product = newProduct({ stock: 0 });
      await repo().insert(product);
      const results = await Promise.all(Array.from({ length: 15 }, () => repo().adjustStock(product.id, 3, 1_000)));
      expect(results.every((r) => typeof r === 'object')).toBe(true);
      expect(results.map((r) => (typeof r === 'object' ? r.stock : -1)).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 15 }, (_, i) => 3 * (i + 1)),
      );
      expect(await stockOf(product.id)).toBe(45);
    });
  });

  describe('findPage search', () => {
    // Distinctive names so that the products of the other tests in this database never match.
    const fixtures = {
      percent: newProduct({ name: 'Zq 100% Wool', sku: 'ZQ-PCT' }),
      hundredX: newProduct({ name: 'Zq 100X Wool', sku: 'ZQ-HX' }),
      underscore: newProduct({ name: 'zq snake_case', sku: 'ZQ-US' }),
      underscoreLookalike: newProduct({ name: 'ZQ snakeXcase', sku: 'ZQ-USX' }),
      skuOnly: newProduct({ name: 'Plain thing', sku: 'ZQ-SKUONLY' }),
      backslash: newProduct({ name: 'Zq back\\slash', sku: 'ZQ-BS' }),
    };
    beforeAll(async () => {
      for (const product of Object.values(fixtures)) await repo().insert(product);
    });

    const search = async (term: string) => {
      const page = await repo().findPage({ search: term }, { field: 'NAME', direction: 'ASC' }, { first: 100 });
      if (!page.ok) throw page.error;
      return page.value.edges.map((edge) => edge.node.sku).sort();
    };
    const skus = (...keys: (keyof typeof fixtures)[]) => keys.map((key) => fixtures[key].sku).sort();

    it.each<[string, string, (keyof typeof fixtures)[]]>([
      ['a name or SKU substring, in any case', 'zQ', ['percent', 'hundredX', 'underscore', 'underscoreLookalike', 'skuOnly', 'backslash']],
      ['an upper-case term against a lower-case name', 'ZQ SNAKE', ['underscore', 'underscoreLookalike']],
      ['a SKU only, case-insensitively', 'zq-skuonly', ['skuOnly']],
      ['a literal % (not a wildcard)', '100%', ['percent']],
      ['a lone % (not "everything")', '%', ['percent']],
      ['a literal _ (not any one character)', 'e_c', ['underscore']],
      ['a lone _', '_', ['underscore']],
      ['a literal backslash', 'k\\s', ['backslash']],
      ['nothing for a term no product has', 'zq-nothing-like-this', []],
    ])('matches %s (%j)', async (_label, term, expected) => {
      expect(await search(term)).toEqual(skus(...expected));
    });

    it('counts only the matches', async () => {
      const page = await repo().findPage({ search: 'zq 100' }, { field: 'PRICE', direction: 'ASC' }, { first: 1 });
      if (!page.ok) throw page.error;
      expect(page.value.edges).toHaveLength(1);
      expect(await page.value.totalCount()).toBe(2);
    });
  });

  describe('findPage over timestamps the database wrote', () => {
    // Regression: created_at is `timestamptz` (microseconds) with `default now()`, but cursors carry JS
    // Dates (milliseconds). A row stamped at …00.123456 gets the cursor …00.123, and
    // `created_at > '…00.123'` matches that same row again: paging by CREATED_AT never advances.
    // The app writes millisecond Dates, so only rows written by SQL (the column default, imports,
    // manual fixes) trigger it today.
    it('pages by CREATED_AT over rows stamped with microseconds, visiting each exactly once', async () => {
      const conn = database.orm.em.fork().getConnection();
      const skus = ['USEC-PROBE-A', 'USEC-PROBE-B', 'USEC-PROBE-C'];
      for (const [i, sku] of skus.entries()) {
        await conn.execute(
          `insert into catalog_products (id, sku, name, price_minor, stock, created_at)
           values (?, ?, 'Usec probe', 100, 1, timestamptz '2019-01-01 00:00:00.123456+00' + ? * interval '1 microsecond')`,
          [crypto.randomUUID(), sku, i],
        );
      }
      const seen: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 10; pages += 1) {
        const result = await repo().findPage({ search: 'USEC-PROBE' }, { field: 'CREATED_AT', direction: 'ASC' }, after ? { first: 1, after } : { first: 1 });
        if (!result.ok) throw result.error;
        seen.push(...result.value.edges.map((edge) => edge.node.sku));
        if (!result.value.pageInfo.hasNextPage) break;
        after = result.value.pageInfo.endCursor ?? undefined;
      }
      // Rows within one millisecond may come in id order once stored at millisecond precision.
      expect([...seen].sort()).toEqual(skus);
    });
  });

  describe('SqlStockReservations inside em.transactional', () => {
    const reserveIn = (lines: readonly StockLine[], rollback = false) =>
      database.orm.em.fork().transactional(async (em) => {
        const short = await new SqlStockReservations(em).reserve(lines);
        if (rollback) throw new Rollback();
        return short;
      });
    const inserted = async (fields: Partial<Product>) => {
      const product = newProduct(fields);
      await repo().insert(product);
      return product;
    };

    it('takes every line and answers undefined when all have stock', async () => {
      const a = await inserted({ stock: 3 });
      const b = await inserted({ stock: 10 });
      expect(await reserveIn([{ productId: a.id, quantity: 3 }, { productId: b.id, quantity: 4 }])).toBeUndefined();
      expect(await stockOf(a.id)).toBe(0);
      expect(await stockOf(b.id)).toBe(6);
    });

    it('answers the product that lacks stock, and the rolled-back transaction takes nothing', async () => {
      const plenty = await inserted({ stock: 10 });
      const short = await inserted({ stock: 1 });
      const lines = [{ productId: plenty.id, quantity: 2 }, { productId: short.id, quantity: 2 }];
      const answer = await database.orm.em.fork().transactional(async (em) => new SqlStockReservations(em).reserve(lines));
      expect(answer).toBe(short.id);
      // The caller rolls back on a miss; reserving in the transaction's context makes that undo everything.
      await expect(reserveIn(lines, true)).rejects.toBeInstanceOf(Rollback);
      expect(await stockOf(short.id)).toBe(1);
    });

    it('runs in the caller transaction: a rollback restores the stock', async () => {
      const product = await inserted({ stock: 4 });
      await expect(reserveIn([{ productId: product.id, quantity: 4 }], true)).rejects.toBeInstanceOf(Rollback);
      expect(await stockOf(product.id)).toBe(4);
    });

    it('never drives stock below zero: of 20 concurrent one-unit reservations of 5 units, exactly 5 succeed', async () => {
      const product = await inserted({ stock: 5 });
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () =>
          database.orm.em
            .fork()
            .transactional(async (em) => {
              const short = await new SqlStockReservations(em).reserve([{ productId: product.id, quantity: 1 }]);
              if (short) throw new Rollback();
              return 'reserved' as const;
            })
            .catch((error: unknown) => {
              if (error instanceof Rollback) return 'refused' as const;
              throw error;
            }),
        ),
      );
      expect(outcomes.filter((o) => o === 'reserved')).toHaveLength(5);
      expect(outcomes.filter((o) => o === 'refused')).toHaveLength(15);
      expect(await stockOf(product.id)).toBe(0);
    });

    it('adds up two lines of one product', async () => {
      const product = await inserted({ stock: 5 });
      expect(await reserveIn([{ productId: product.id, quantity: 2 }, { productId: product.id, quantity: 2 }])).toBeUndefined();
      expect(await stockOf(product.id)).toBe(1);
      // 1 left: two one-unit lines need 2.
      expect(await reserveIn([{ productId: product.id, quantity: 1 }, { productId: product.id, quantity: 1 }])).toBe(product.id);
    });

    it('does not deadlock: 16 concurrent orders over the same 3 products, listed in opposite orders', async () => {
      const products = [await inserted({ stock: 100 }), await inserted({ stock: 100 }), await inserted({ stock: 100 })];
      const outcomes = await Promise.all(
        Array.from({ length: 16 }, (_, i) => {
          const lines = products.map((p) => ({ productId: p.id, quantity: 1 }));
          return reserveIn(i % 2 === 0 ? lines : [...lines].reverse());
        }),
      );
      expect(outcomes.every((o) => o === undefined)).toBe(true);
      for (const product of products) expect(await stockOf(product.id)).toBe(84);
    });

    it('cannot reserve an inactive product, even with stock', async () => {
      const retired = await inserted({ stock: 50, active: false });
      expect(await reserveIn([{ productId: retired.id, quantity: 1 }])).toBe(retired.id);
      expect(await stockOf(retired.id)).toBe(50);
    });

    it('answers an unknown product as lacking stock', async () => {
      const missing = crypto.randomUUID();
      expect(await reserveIn([{ productId: missing, quantity: 1 }])).toBe(missing);
    });

    it('release puts the units back', async () => {
      const a = await inserted({ stock: 6 });
      const b = await inserted({ stock: 2 });
      const lines = [{ productId: a.id, quantity: 5 }, { productId: b.id, quantity: 2 }];
      expect(await reserveIn(lines)).toBeUndefined();
      expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([1, 0]);
      await database.orm.em.fork().transactional(async (em) => new SqlStockReservations(em).release(lines));
      expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([6, 2]);
    });

    it('release is undone with its transaction', async () => {
      const product = await inserted({ stock: 1 });
      await expect(
        database.orm.em.fork().transactional(async (em) => {
          await new SqlStockReservations(em).release([{ productId: product.id, quantity: 9 }]);
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
      expect(await stockOf(product.id)).toBe(1);
    });
  });
});

describe('MikroOrmProductRepository.findPage ordering and paging', () => {
  // A database of its own: the whole table is the fixture, so paging must visit exactly it.
  const database = useTestDatabase();
  const at = (minutes: number) => new Date(T0 + minutes * 60_000);
  // Ties on every ordering field (same name, same price, same instant) exercise the id tie-break.
  // Names are capitalised single words, so that any collation orders them like JS does.
  const fixtures: Product[] = [
    newProduct({ name: 'Anvil', priceMinor: 9_000, stock: 2, createdAt: at(5) }),
    newProduct({ name: 'Bolt', priceMinor: 25, stock: 0, createdAt: at(1) }),
    newProduct({ name: 'Bolt', priceMinor: 25, stock: 300, createdAt: at(3) }),
    newProduct({ name: 'Cable', priceMinor: 500, stock: 12, createdAt: at(3), active: false }),
    newProduct({ name: 'Drill', priceMinor: 12_000, stock: 1, createdAt: at(2) }),
    newProduct({ name: 'Drill', priceMinor: 500, stock: 0, createdAt: at(3) }),
    newProduct({ name: 'Eraser', priceMinor: 99, stock: 40, createdAt: at(0) }),
    newProduct({ name: 'Funnel', priceMinor: 500, stock: 7, createdAt: at(4), active: false }),
    newProduct({ name: 'Gasket', priceMinor: 100_000_000, stock: 1_000_000, createdAt: at(6) }),
  ];
  beforeAll(async () => {
    for (const product of fixtures) await repo().insert(product);
  });
  const repo = () => new MikroOrmProductRepository(database.orm.em.fork());

  const expectedOrder = (order: ProductOrder, filter: (p: Product) => boolean = () => true) => productIdsInOrder(fixtures, order, filter);

  const page = async (filter: ProductFilter, order: ProductOrder, window: PageWindow) => {
    const result = await repo().findPage(filter, order, window);
    if (!result.ok) throw result.error;
    return result.value;
  };

  /** Pages forward to the end, checking the page info of every page; returns the ids in visit order. */
  const walkForward = (filter: ProductFilter, order: ProductOrder, size: number) =>
    walkPagesForward((window) => page(filter, order, window), size, (current) => {
      expect(current.pageInfo.startCursor).toBe(current.edges[0]?.cursor ?? null);
      expect(current.pageInfo.endCursor).toBe(current.edges.at(-1)?.cursor ?? null);
    });

  /** Pages backward from the end to the start; returns the ids in display order. */
  const walkBackward = (filter: ProductFilter, order: ProductOrder, size: number) => walkPagesBackward((window) => page(filter, order, window), size);

  const orders: ProductOrder[] = (['NAME', 'PRICE', 'CREATED_AT'] as const).flatMap((field) =>
    (['ASC', 'DESC'] as const).map((direction) => ({ field, direction })),
  );

  it.each(orders)('orders by $field $direction, then id, in one page', async (order) => {
    const current = await page({}, order, { first: 100 });
    expect(ids(current.edges.map((edge) => edge.node))).toEqual(expectedOrder(order));
    expect(current.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  });

  it.each(orders)('pages forward by $field $direction visiting every row exactly once', async (order) => {
    for (const size of [1, 2, 4]) expect(await walkForward({}, order, size)).toEqual(expectedOrder(order));
  });

  it.each(orders)('pages backward by $field $direction visiting every row exactly once', async (order) => {
    for (const size of [1, 2, 4]) expect(await walkBackward({}, order, size)).toEqual(expectedOrder(order));
  });

  it('returns the plain products, equal to what was inserted', async () => {
    const current = await page({}, { field: 'NAME', direction: 'ASC' }, { first: 100 });
    expect([...current.edges.map((edge) => edge.node)].sort(byId)).toEqual([...fixtures].sort(byId));
  });

  it('gives the first page with hasNextPage and a last page without it', async () => {
    const order: ProductOrder = { field: 'PRICE', direction: 'ASC' };
    const first = await page({}, order, { first: 8 });
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const rest = await page({}, order, { first: 8, after: first.pageInfo.endCursor ?? undefined });
    expect(ids(rest.edges.map((edge) => edge.node))).toEqual(expectedOrder(order).slice(8));
    expect(rest.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });

  it('pages backward from a cursor to the rows just before it', async () => {
    const order: ProductOrder = { field: 'CREATED_AT', direction: 'DESC' };
    const all = await page({}, order, { first: 100 });
    const sixth = all.edges[5]!;
    const back = await page({}, order, { last: 3, before: sixth.cursor });
    expect(ids(back.edges.map((edge) => edge.node))).toEqual(expectedOrder(order).slice(2, 5));
    expect(back.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
  });

  it.each<[string, ProductFilter, (p: Product) => boolean]>([
    ['active only', { active: true }, (p) => p.active],
    ['inactive only', { active: false }, (p) => !p.active],
    ['in stock', { inStock: true }, (p) => p.stock > 0],
    ['out of stock', { inStock: false }, (p) => p.stock === 0],
    ['an inclusive price range', { minPriceMinor: 99, maxPriceMinor: 9_000 }, (p) => p.priceMinor >= 99 && p.priceMinor <= 9_000],
    ['a minimum price', { minPriceMinor: 500 }, (p) => p.priceMinor >= 500],
    ['a maximum price', { maxPriceMinor: 25 }, (p) => p.priceMinor <= 25],
    ['a search and a status', { search: 'L', active: true }, (p) => p.active && p.name.toLowerCase().includes('l')],
  ])('filters %s, pages through exactly the matches, and counts them', async (_label, filter, predicate) => {
    const order: ProductOrder = { field: 'PRICE', direction: 'DESC' };
    const expected = expectedOrder(order, predicate);
    expect(expected.length).toBeGreaterThan(0);
    expect(await walkForward(filter, order, 2)).toEqual(expected);
    expect(await walkBackward(filter, order, 2)).toEqual(expected);
    expect(await (await page(filter, order, { first: 1 })).totalCount()).toBe(expected.length);
  });

  it('counts every row matching the filter, not the page', async () => {
    const current = await page({}, { field: 'NAME', direction: 'ASC' }, { first: 2 });
    expect(current.edges).toHaveLength(2);
    expect(await current.totalCount()).toBe(fixtures.length);
  });

  it('answers an empty page without cursors when nothing matches', async () => {
    const current = await page({ search: 'no-such-product' }, { field: 'NAME', direction: 'ASC' }, { first: 5 });
    expect(current.edges).toEqual([]);
    expect(current.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
    expect(await current.totalCount()).toBe(0);
  });

  describe('refuses a cursor it did not issue with VALIDATION_FAILED (a result, never a throw)', () => {
    const id = crypto.randomUUID();
    const encoded = (value: unknown) => Cursor.encode(value as never);
    const cases: [string, ProductOrder['field'], string][] = [
      ['not base64 JSON', 'NAME', 'bm90LWEtY3Vyc29y'],
      ['garbage characters', 'NAME', '!!!'],
      ['an overlong string', 'NAME', 'A'.repeat(5_000)],
      ['too few keys', 'NAME', encoded(['Bolt'])],
      ['too many keys', 'NAME', encoded(['Bolt', id, 1])],
      ['an object instead of a key', 'NAME', encoded([{ $ne: null }, id])],
      ['a malformed id', 'NAME', encoded(['Bolt', 'not-a-uuid'])],
      ['a number id', 'NAME', encoded(['Bolt', 5])],
      ['a non-date for CREATED_AT', 'CREATED_AT', encoded(['yesterday', id])],
      // Regression: these make MikroORM throw CursorError ("Could not convert JSON value … to type
      // BigIntType") before any SQL is sent; findPage only turns DriverException into a result.
      ['a string for PRICE', 'PRICE', encoded(['cheap', id])],
      ['a fraction for PRICE', 'PRICE', encoded([1.5, id])],
    ];
    it.each(cases)('%s (%s ordering)', async (_label, field, cursor) => {
      for (const window of [{ first: 2, after: cursor }, { last: 2, before: cursor }] satisfies PageWindow[]) {
        const result = await repo().findPage({}, { field, direction: 'ASC' }, window);
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.error.code).toBe('VALIDATION_FAILED');
        expect(result.error.issues.map((issue) => issue.path)).toEqual([[window.first !== undefined ? 'after' : 'before']]);
      }
    });

    // Regression (same cause): the realistic way to get here is a client that switches the ordering and
    // keeps its cursor; pagination.ts documents exactly this case as VALIDATION_FAILED.
    it('a cursor issued for NAME ordering, sent with PRICE ordering', async () => {
      const byName = await page({}, { field: 'NAME', direction: 'ASC' }, { first: 2 });
      const result = await repo().findPage({}, { field: 'PRICE', direction: 'ASC' }, { first: 2, after: byName.pageInfo.endCursor ?? '' });
      expect(!result.ok && result.error.code).toBe('VALIDATION_FAILED');
    });
  });
});
