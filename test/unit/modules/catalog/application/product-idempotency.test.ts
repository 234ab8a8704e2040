import { describe, it, expect } from 'vitest';
import { createCreateProduct } from '../../../../../src/modules/catalog/application/create-product.ts';
import { createUpdateProduct } from '../../../../../src/modules/catalog/application/update-product.ts';
import { clockAt, InMemoryProductRepository, ops } from '../../../../fakes/catalog.ts';
import { InMemoryIdempotentProductWrites } from '../../../../fakes/catalog-idempotency.ts';

const setup = () => {
  const products = new InMemoryProductRepository();
  const writes = new InMemoryIdempotentProductWrites(products);
  const deps = { products, writes, now: clockAt('2026-03-04T05:06:07.000Z') };
  return { products, writes, createProduct: createCreateProduct(deps), updateProduct: createUpdateProduct(deps) };
};
const widget = { sku: 'WIDGET-1', name: 'Widget', priceMinor: 1_999, stock: 12 };

describe('createProduct with an idempotency key', () => {
  it('creates one product for racing calls with the same key and answers each with it', async () => {
    const { products, createProduct } = setup();
    const admin = ops.admin();
    const results = await Promise.all(Array.from({ length: 5 }, () => createProduct(admin, { ...widget, idempotencyKey: 'c-1' })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(new Set(results.map((r) => r.ok && r.value.id)).size).toBe(1);
    expect(products.rows.size).toBe(1);
  });

  it('treats omitted defaults like their values: the same request with `active: true` replays', async () => {
    const { products, createProduct } = setup();
    const admin = ops.admin();
    const first = await createProduct(admin, { ...widget, idempotencyKey: 'c' });
    const again = await createProduct(admin, { ...widget, description: '', active: true, idempotencyKey: 'c' });
    expect(again).toEqual(first);
    expect(products.rows.size).toBe(1);
  });

  it('refuses the same key for another product as IDEMPOTENCY_KEY_REUSED, creating nothing', async () => {
    const { products, createProduct } = setup();
    const admin = ops.admin();
    await createProduct(admin, { ...widget, idempotencyKey: 'c' });
    const reused = await createProduct(admin, { ...widget, sku: 'WIDGET-2', idempotencyKey: 'c' });
    expect(!reused.ok && reused.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(products.rows.size).toBe(1);
  });

  it('refuses a key first used by another mutation (the fingerprint names the operation)', async () => {
    const { products, createProduct, updateProduct } = setup();
    const admin = ops.admin();
    const created = await createProduct(admin, { ...widget, idempotencyKey: 'k' });
    const id = created.ok ? created.value.id : '';
    const renamed = await updateProduct(admin, { id, name: 'Widget', idempotencyKey: 'k' });
    expect(!renamed.ok && renamed.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(products.rows.size).toBe(1);
  });
});

describe('updateProduct with an idempotency key', () => {
  it('answers a retry with the product as the first call left it, not as a later edit made it', async () => {
    const { products, createProduct, updateProduct } = setup();
    const admin = ops.admin();
    const created = await createProduct(admin, widget);
    const id = created.ok ? created.value.id : '';
    const first = await updateProduct(admin, { id, priceMinor: 2_500, idempotencyKey: 'u' });
    await updateProduct(admin, { id, priceMinor: 3_000 });
    const retry = await updateProduct(admin, { id, priceMinor: 2_500, idempotencyKey: 'u' });
    expect(retry).toEqual(first);
    expect(products.rows.get(id)?.priceMinor).toBe(3_000);
  });

  it('refuses the same key with other changes as IDEMPOTENCY_KEY_REUSED', async () => {
    const { products, createProduct, updateProduct } = setup();
    const admin = ops.admin();
    const created = await createProduct(admin, widget);
    const id = created.ok ? created.value.id : '';
    await updateProduct(admin, { id, name: 'Gadget', idempotencyKey: 'u' });
    const reused = await updateProduct(admin, { id, name: 'Gizmo', idempotencyKey: 'u' });
    expect(!reused.ok && reused.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(products.rows.get(id)?.name).toBe('Gadget');
  });

  it("refuses a malformed key as VALIDATION_FAILED on ['idempotencyKey'] without editing", async () => {
    const { products, writes, createProduct, updateProduct } = setup();
    const created = await createProduct(ops.admin(), widget);
    const id = created.ok ? created.value.id : '';
    const result = await updateProduct(ops.admin(), { id, name: 'Gizmo', idempotencyKey: 'a\u0000b' });
    expect(!result.ok && 'issues' in result.error && result.error.issues.map((i) => i.path)).toEqual([['idempotencyKey']]);
    expect(products.rows.get(id)?.name).toBe('Widget');
    expect(writes.writes).toBe(0);
  });
});
