import { describe, it, expect } from 'vitest';
import { IDEMPOTENCY_WINDOW_MS } from '../../../../../src/platform/idempotency.ts';
import { createAdjustStock } from '../../../../../src/modules/catalog/application/adjust-stock.ts';
import { InMemoryProductRepository, ops } from '../../../../fakes/catalog.ts';
import { InMemoryIdempotentProductWrites } from '../../../../fakes/catalog-idempotency.ts';

const setup = (stock = 5) => {
  let now = Date.UTC(2026, 0, 1);
  const products = new InMemoryProductRepository();
  const product = products.seed({ stock });
  const writes = new InMemoryIdempotentProductWrites(products, { clock: () => now });
  const advance = (ms: number) => {
    now += ms;
  };
  return { products, product, writes, advance, adjustStock: createAdjustStock({ products, writes }) };
};

describe('adjustStock with an idempotency key', () => {
  it('adjusts once for a retry with the same key and input, and answers the first result again', async () => {
    const { products, product, writes, adjustStock } = setup(5);
    const admin = ops.admin();
    const first = await adjustStock(admin, { productId: product.id, delta: 5, idempotencyKey: 'k-1' });
    const retry = await adjustStock(admin, { productId: product.id, delta: 5, idempotencyKey: 'k-1' });
    expect(first.ok && first.value.stock).toBe(10);
    expect(retry).toEqual(first);
    expect(products.rows.get(product.id)?.stock).toBe(10);
    expect(writes.writes).toBe(1);
  });

  it('adjusts once when 20 calls with the same key race, and all 20 get the same product', async () => {
    const { products, product, adjustStock } = setup(5);
    const admin = ops.admin();
    const results = await Promise.all(Array.from({ length: 20 }, () => adjustStock(admin, { productId: product.id, delta: 5, idempotencyKey: 'race' })));
    expect(results.every((r) => r.ok && r.value.stock === 10)).toBe(true);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(products.rows.get(product.id)?.stock).toBe(10);
  });

  it.each<[string, { productId?: string; delta: number }]>([
    ['another delta', { delta: 6 }],
    ['another product', { productId: 'other', delta: 5 }],
  ])('refuses the same key with %s as IDEMPOTENCY_KEY_REUSED without adjusting', async (_label, change) => {
    const { products, product, adjustStock } = setup(5);
    const other = products.seed({ stock: 1 });
    const admin = ops.admin();
    await adjustStock(admin, { productId: product.id, delta: 5, idempotencyKey: 'k' });
    const reused = await adjustStock(admin, { productId: change.productId ? other.id : product.id, delta: change.delta, idempotencyKey: 'k' });
    expect(!reused.ok && reused.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(products.rows.get(product.id)?.stock).toBe(10);
    expect(products.rows.get(other.id)?.stock).toBe(1);
  });

  it("keeps one caller's key apart from another's", async () => {
    const { products, product, adjustStock } = setup(5);
    await adjustStock(ops.admin(), { productId: product.id, delta: 5, idempotencyKey: 'shared' });
    const other = await adjustStock(ops.admin(), { productId: product.id, delta: 2, idempotencyKey: 'shared' });
    expect(other.ok && other.value.stock).toBe(12);
    expect(products.rows.get(product.id)?.stock).toBe(12);
  });

  it('applies every call without a key', async () => {
    const { products, product, adjustStock } = setup(5);
    const admin = ops.admin();
    await adjustStock(admin, { productId: product.id, delta: 5 });
    await adjustStock(admin, { productId: product.id, delta: 5 });
    expect(products.rows.get(product.id)?.stock).toBe(15);
  });

  it('leaves the key free after a refused adjustment, so a corrected retry is not a reuse', async () => {
    const { products, product, adjustStock } = setup(5);
    const admin = ops.admin();
    const refused = await adjustStock(admin, { productId: product.id, delta: -6, idempotencyKey: 'k' });
    expect(!refused.ok && refused.error.code).toBe('VALIDATION_FAILED');
    products.rows.set(product.id, { ...products.rows.get(product.id)!, stock: 6 });
    const retried = await adjustStock(admin, { productId: product.id, delta: -6, idempotencyKey: 'k' });
    expect(retried.ok && retried.value.stock).toBe(0);
  });

  it('adjusts again once the key is older than the 24 h window', async () => {
    const { products, product, advance, adjustStock } = setup(5);
    const admin = ops.admin();
    await adjustStock(admin, { productId: product.id, delta: 5, idempotencyKey: 'k' });
    advance(IDEMPOTENCY_WINDOW_MS - 1);
    await adjustStock(admin, { productId: product.id, delta: 5, idempotencyKey: 'k' });
    expect(products.rows.get(product.id)?.stock).toBe(10);
    advance(1);
    await adjustStock(admin, { productId: product.id, delta: 5, idempotencyKey: 'k' });
    expect(products.rows.get(product.id)?.stock).toBe(15);
  });

  it.each<[string, string]>([
    ['an empty key', ''],
    ['a key over 255 characters', 'k'.repeat(256)],
    ['a key with a line break', 'a\nb'],
    ['a key with a NUL character', 'a\u0000b'],
  ])("refuses %s as VALIDATION_FAILED on ['idempotencyKey'] without adjusting", async (_label, idempotencyKey) => {
    const { products, product, writes, adjustStock } = setup(5);
    const result = await adjustStock(ops.admin(), { productId: product.id, delta: 1, idempotencyKey });
    expect(!result.ok && 'issues' in result.error && result.error.issues.map((i) => i.path)).toEqual([['idempotencyKey']]);
    expect(products.rows.get(product.id)?.stock).toBe(5);
    expect(writes.writes).toBe(0);
  });

  it('checks the role before the key: a customer with a key is FORBIDDEN and stores nothing', async () => {
    const { writes, product, adjustStock } = setup(5);
    const result = await adjustStock(ops.customer(), { productId: product.id, delta: 1, idempotencyKey: 'k' });
    expect(!result.ok && result.error.code).toBe('FORBIDDEN');
    expect(writes.keys.size).toBe(0);
  });
});
