import { describe, it, expect } from 'vitest';
import type { OpContext } from '../../../../../src/platform/op-context.ts';
import type { PageArgs } from '../../../../../src/platform/pagination.ts';
import type { Product } from '../../../../../src/modules/catalog/domain/product.ts';
import { createListProducts, DEFAULT_PRODUCT_ORDER } from '../../../../../src/modules/catalog/application/list-products.ts';
import type { ProductFilter, ProductOrder } from '../../../../../src/modules/catalog/application/ports.ts';
import { InMemoryProductRepository, ops } from '../../../../fakes/catalog.ts';

const setup = () => {
  const products = new InMemoryProductRepository();
  const day = (n: number) => new Date(Date.UTC(2026, 0, n));
  const seeded = {
    cable: products.seed({ sku: 'CABLE-1', name: 'Cable', priceMinor: 500, stock: 0, createdAt: day(3) }),
    anvil: products.seed({ sku: 'ANVIL-9', name: 'Anvil', priceMinor: 90_000, stock: 2, createdAt: day(1) }),
    bolt: products.seed({ sku: 'BOLT-2', name: 'Bolt', priceMinor: 25, stock: 1_000, createdAt: day(2) }),
    retired: products.seed({ sku: 'OLD-1', name: 'Abacus', priceMinor: 700, stock: 4, active: false, createdAt: day(4) }),
  };
  return { products, seeded, listProducts: createListProducts({ products }) };
};

const names = (page: { edges: readonly { node: Product }[] }) => page.edges.map((edge) => edge.node.name);

describe('listProducts', () => {
  it('orders by name ascending by default', async () => {
    const { products, listProducts } = setup();
    const result = await listProducts(ops.admin(), {});
    expect(result.ok && names(result.value)).toEqual(['Abacus', 'Anvil', 'Bolt', 'Cable']);
    expect(products.pageCalls[0]?.order).toEqual(DEFAULT_PRODUCT_ORDER);
    expect(DEFAULT_PRODUCT_ORDER).toEqual({ field: 'NAME', direction: 'ASC' });
  });

  it('defaults to the first 20 items', async () => {
    const { products, listProducts } = setup();
    await listProducts(ops.anonymous(), {});
    expect(products.pageCalls[0]?.window).toEqual({ first: 20 });
  });

  it.each<[ProductOrder, string[]]>([
    [{ field: 'NAME', direction: 'DESC' }, ['Cable', 'Bolt', 'Anvil']],
    [{ field: 'PRICE', direction: 'ASC' }, ['Bolt', 'Cable', 'Anvil']],
    [{ field: 'PRICE', direction: 'DESC' }, ['Anvil', 'Cable', 'Bolt']],
    [{ field: 'CREATED_AT', direction: 'ASC' }, ['Anvil', 'Bolt', 'Cable']],
    [{ field: 'CREATED_AT', direction: 'DESC' }, ['Cable', 'Bolt', 'Anvil']],
  ])('passes the ordering %j through', async (orderBy, expected) => {
    const { listProducts } = setup();
    const result = await listProducts(ops.customer(), { orderBy });
    expect(result.ok && names(result.value)).toEqual(expected);
  });

  it.each<[string, OpContext]>([
    ['an anonymous caller', ops.anonymous()],
    ['a customer', ops.customer()],
  ])('shows %s only active products, also when it asks for inactive ones', async (_label, op) => {
    const { products, listProducts } = setup();
    for (const filter of [{}, { active: false }, { active: true }, { search: 'aba' }] satisfies ProductFilter[]) {
      const result = await listProducts(op, { filter });
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.value.edges.every((edge) => edge.node.active)).toBe(true);
      expect(names(result.value)).not.toContain('Abacus');
      expect(await result.value.totalCount()).toBe(filter.search ? 0 : 3);
    }
    expect(products.pageCalls.map((call) => call.filter.active)).toEqual([true, true, true, true]);
  });

  it('lets an admin see both, or only the inactive products', async () => {
    const { listProducts } = setup();
    const all = await listProducts(ops.admin(), {});
    expect(all.ok && names(all.value)).toEqual(['Abacus', 'Anvil', 'Bolt', 'Cable']);
    const inactive = await listProducts(ops.admin(), { filter: { active: false } });
    expect(inactive.ok && names(inactive.value)).toEqual(['Abacus']);
    const system = await listProducts(ops.system(), { filter: { active: false } });
    expect(system.ok && names(system.value)).toEqual(['Abacus']);
  });

  it('passes the other filters through unchanged', async () => {
    const { products, listProducts } = setup();
    const filter: ProductFilter = { search: 'b', inStock: true, minPriceMinor: 10, maxPriceMinor: 1_000 };
    const result = await listProducts(ops.customer(), { filter });
    expect(products.pageCalls[0]?.filter).toEqual({ ...filter, active: true });
    expect(result.ok && names(result.value)).toEqual(['Bolt']);
  });

  it('pages forward and backward with the cursors it hands out', async () => {
    const { listProducts } = setup();
    const first = await listProducts(ops.admin(), { first: 3 });
    if (!first.ok) throw first.error;
    expect(names(first.value)).toEqual(['Abacus', 'Anvil', 'Bolt']);
    expect(first.value.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = await listProducts(ops.admin(), { first: 3, after: first.value.pageInfo.endCursor });
    if (!second.ok) throw second.error;
    expect(names(second.value)).toEqual(['Cable']);
    expect(second.value.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const back = await listProducts(ops.admin(), { last: 2, before: second.value.pageInfo.startCursor });
    expect(back.ok && names(back.value)).toEqual(['Anvil', 'Bolt']);
    expect(back.ok && back.value.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
  });

  it.each<[string, PageArgs, string[][]]>([
    ['first above 100', { first: 101 }, [['first']]],
    ['a negative first', { first: -1 }, [['first']]],
    ['a fractional last', { last: 2.5 }, [['last']]],
    ['first and last together', { first: 1, last: 1 }, [['last']]],
    ['after with last', { last: 1, after: 'x' }, [['after']]],
    ['before with first', { first: 1, before: 'x' }, [['before']]],
  ])('refuses %s as VALIDATION_FAILED without querying', async (_label, args, paths) => {
    const { products, listProducts } = setup();
    const result = await listProducts(ops.admin(), args);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('VALIDATION_FAILED');
    expect(result.error.issues.map((issue) => issue.path)).toEqual(paths);
    expect(products.pageCalls).toEqual([]);
  });

  it('refuses a cursor it did not issue', async () => {
    const { listProducts } = setup();
    const result = await listProducts(ops.admin(), { first: 2, after: 'bm90LWEtY3Vyc29y' });
    expect(!result.ok && result.error.code).toBe('VALIDATION_FAILED');
    const priceCursorForNameOrder = Buffer.from(JSON.stringify([100, crypto.randomUUID()])).toString('base64url');
    const other = await listProducts(ops.admin(), { last: 2, before: priceCursorForNameOrder });
    expect(!other.ok && other.error.issues.map((issue) => issue.path)).toEqual([['before']]);
  });
});
