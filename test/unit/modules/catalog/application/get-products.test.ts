import { describe, it, expect } from 'vitest';
import type { OpContext } from '../../../../../src/platform/op-context.ts';
import { createGetProducts } from '../../../../../src/modules/catalog/application/get-products.ts';
import { InMemoryProductRepository, ops } from '../../../../fakes/catalog.ts';

const setup = () => {
  const products = new InMemoryProductRepository();
  const a = products.seed({ name: 'A' });
  const b = products.seed({ name: 'B' });
  const retired = products.seed({ name: 'Retired', active: false });
  return { products, a, b, retired, getProducts: createGetProducts({ products }) };
};

describe('getProducts', () => {
  it('answers in the order of the ids asked for, not the store order', async () => {
    const { a, b, retired, getProducts } = setup();
    expect(await getProducts(ops.anonymous(), [b.id, retired.id, a.id])).toEqual([b, retired, a]);
  });

  it('puts null where no product has the id', async () => {
    const { a, getProducts } = setup();
    const missing = crypto.randomUUID();
    expect(await getProducts(ops.customer(), [missing, a.id, 'not-even-a-uuid'])).toEqual([null, a, null]);
  });

  it('answers every position of a repeated id, and looks each id up once', async () => {
    const { products, a, b, getProducts } = setup();
    const missing = crypto.randomUUID();
    expect(await getProducts(ops.admin(), [a.id, b.id, a.id, missing, missing, a.id])).toEqual([a, b, a, null, null, a]);
    expect(products.lookups).toEqual([[a.id, b.id, missing]]);
  });

  it.each<[string, OpContext]>([
    ['an anonymous caller', ops.anonymous()],
    ['a customer', ops.customer()],
  ])('shows %s inactive products too (past orders point at them)', async (_label, op) => {
    const { retired, getProducts } = setup();
    expect(await getProducts(op, [retired.id])).toEqual([retired]);
  });

  it('answers an empty list with an empty list', async () => {
    const { getProducts } = setup();
    expect(await getProducts(ops.anonymous(), [])).toEqual([]);
  });

  it('does not read once the request is aborted', async () => {
    const { products, a, getProducts } = setup();
    const controller = new AbortController();
    controller.abort();
    await expect(getProducts({ ...ops.anonymous(), signal: controller.signal }, [a.id])).rejects.toThrow();
    expect(products.lookups).toEqual([]);
  });
});
