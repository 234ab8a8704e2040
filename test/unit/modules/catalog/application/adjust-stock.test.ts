import { describe, it, expect } from 'vitest';
import type { OpContext } from '../../../../../src/platform/op-context.ts';
import { PRODUCT_LIMITS } from '../../../../../src/modules/catalog/domain/product.ts';
import { createAdjustStock } from '../../../../../src/modules/catalog/application/adjust-stock.ts';
import { InMemoryProductRepository, ops } from '../../../../fakes/catalog.ts';
import { InMemoryIdempotentProductWrites } from '../../../../fakes/catalog-idempotency.ts';

const setup = (stock = 5) => {
  const products = new InMemoryProductRepository();
  const product = products.seed({ stock });
  return { products, product, adjustStock: createAdjustStock({ products, writes: new InMemoryIdempotentProductWrites(products) }) };
};

describe('adjustStock', () => {
  it.each<[string, number, number, number]>([
    ['adds a delivery', 5, 7, 12],
    ['removes a write-off', 5, -2, 3],
    ['removes down to exactly zero', 5, -5, 0],
    ['adds up to exactly the maximum', PRODUCT_LIMITS.maxStock - 3, 3, PRODUCT_LIMITS.maxStock],
  ])('%s (%d %d → %d) and returns the product', async (_label, stock, delta, expected) => {
    const { products, product, adjustStock } = setup(stock);
    const result = await adjustStock(ops.admin(), { productId: product.id, delta });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({ id: product.id, sku: product.sku, stock: expected });
    expect(products.rows.get(product.id)?.stock).toBe(expected);
  });

  it.each<[string, number]>([
    ['zero', 0],
    ['a fraction', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['more than the stock limit', PRODUCT_LIMITS.maxStock + 1],
    ['less than minus the stock limit', -PRODUCT_LIMITS.maxStock - 1],
  ])("refuses a delta of %s as VALIDATION_FAILED on ['delta'] without touching the store", async (_label, delta) => {
    const { products, product, adjustStock } = setup();
    const result = await adjustStock(ops.admin(), { productId: product.id, delta });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('VALIDATION_FAILED');
    expect('issues' in result.error && result.error.issues.map((issue) => issue.path)).toEqual([['delta']]);
    expect(products.rows.get(product.id)).toEqual(product);
  });

  it.each<[string, number, number]>([
    ['below zero', 5, -6],
    ['above the stock limit', PRODUCT_LIMITS.maxStock, 1],
  ])("refuses a change that would take stock %s as VALIDATION_FAILED on ['delta'], leaving the stock", async (_label, stock, delta) => {
    const { products, product, adjustStock } = setup(stock);
    const result = await adjustStock(ops.admin(), { productId: product.id, delta });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('VALIDATION_FAILED');
    expect('issues' in result.error && result.error.issues.map((issue) => issue.path)).toEqual([['delta']]);
    expect(products.rows.get(product.id)?.stock).toBe(stock);
  });

  it('returns NOT_FOUND for an unknown product', async () => {
    const { adjustStock } = setup();
    const result = await adjustStock(ops.admin(), { productId: crypto.randomUUID(), delta: 1 });
    expect(!result.ok && result.error.code).toBe('NOT_FOUND');
  });

  it.each<[string, string, OpContext]>([
    ['an anonymous caller', 'UNAUTHENTICATED', ops.anonymous()],
    ['a customer', 'FORBIDDEN', ops.customer()],
  ])('refuses %s with %s and leaves the stock', async (_label, code, op) => {
    const { products, product, adjustStock } = setup();
    const result = await adjustStock(op, { productId: product.id, delta: 100 });
    expect(!result.ok && result.error.code).toBe(code);
    expect(products.rows.get(product.id)?.stock).toBe(5);
  });

  it('lets the system adjust stock', async () => {
    const { product, adjustStock } = setup();
    const result = await adjustStock(ops.system(), { productId: product.id, delta: 1 });
    expect(result.ok && result.value.stock).toBe(6);
  });
});
