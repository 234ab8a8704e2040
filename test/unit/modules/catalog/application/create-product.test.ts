import { describe, it, expect } from 'vitest';
import type { OpContext } from '../../../../../src/platform/op-context.ts';
import { createCreateProduct, type CreateProductInput } from '../../../../../src/modules/catalog/application/create-product.ts';
import { clockAt, InMemoryProductRepository, ops } from '../../../../fakes/catalog.ts';
import { InMemoryIdempotentProductWrites } from '../../../../fakes/catalog-idempotency.ts';

const NOW = '2026-03-04T05:06:07.000Z';
const input: CreateProductInput = { sku: 'WIDGET-1', name: 'Widget', description: 'A widget.', priceMinor: 1999, stock: 12 };

const setup = () => {
  const products = new InMemoryProductRepository();
  return { products, createProduct: createCreateProduct({ products, writes: new InMemoryIdempotentProductWrites(products), now: clockAt(NOW) }) };
};

describe('createProduct', () => {
  it.each<[string, OpContext]>([
    ['an admin', ops.admin()],
    ['the system', ops.system()],
  ])('lets %s add a product and stores exactly what it returns', async (_label, op) => {
    const { products, createProduct } = setup();
    const result = await createProduct(op, input);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      sku: 'WIDGET-1',
      name: 'Widget',
      description: 'A widget.',
      priceMinor: 1999,
      stock: 12,
      active: true,
      createdAt: new Date(NOW),
      updatedAt: new Date(NOW),
    });
    expect(products.rows.get(result.value.id)).toEqual(result.value);
  });

  it('trims the name, defaults the description to empty, and keeps an explicit inactive flag', async () => {
    const { createProduct } = setup();
    const result = await createProduct(ops.admin(), { sku: 'GADGET', name: '  Gadget \n', priceMinor: 5, stock: 0, active: false });
    expect(result.ok && result.value).toMatchObject({ name: 'Gadget', description: '', active: false, stock: 0 });
  });

  it('gives every product its own id', async () => {
    const { createProduct } = setup();
    const a = await createProduct(ops.admin(), { ...input, sku: 'A-1' });
    const b = await createProduct(ops.admin(), { ...input, sku: 'B-1' });
    expect(a.ok && b.ok && a.value.id !== b.value.id).toBe(true);
  });

  it.each<[string, string, OpContext]>([
    ['an anonymous caller', 'UNAUTHENTICATED', ops.anonymous()],
    ['a customer', 'FORBIDDEN', ops.customer()],
  ])('refuses %s with %s and stores nothing', async (_label, code, op) => {
    const { products, createProduct } = setup();
    const result = await createProduct(op, input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(code);
    expect(products.rows.size).toBe(0);
  });

  it('checks the role before the input, so a non-admin learns nothing about the rules', async () => {
    const { createProduct } = setup();
    const result = await createProduct(ops.customer(), { ...input, sku: 'bad', priceMinor: 0 });
    expect(!result.ok && result.error.code).toBe('FORBIDDEN');
  });

  it.each<[string, Partial<CreateProductInput>, string[][]]>([
    ['a malformed SKU', { sku: 'lower' }, [['sku']]],
    ['a blank name', { name: '   ' }, [['name']]],
    ['a too long description', { description: 'd'.repeat(2_001) }, [['description']]],
    ['a zero price', { priceMinor: 0 }, [['price']]],
    ['a negative price', { priceMinor: -100 }, [['price']]],
    ['a fractional price', { priceMinor: 10.5 }, [['price']]],
    ['a negative stock', { stock: -1 }, [['stock']]],
    ['everything wrong at once', { sku: '', name: '', priceMinor: 0, stock: 1.5 }, [['sku'], ['name'], ['price'], ['stock']]],
  ])('returns VALIDATION_FAILED for %s and stores nothing', async (_label, patch, paths) => {
    const { products, createProduct } = setup();
    const result = await createProduct(ops.admin(), { ...input, ...patch });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('VALIDATION_FAILED');
    expect('issues' in result.error && result.error.issues.map((issue) => issue.path)).toEqual(paths);
    expect(products.rows.size).toBe(0);
  });

  it("refuses a taken SKU as VALIDATION_FAILED on ['sku'] and leaves the first product alone", async () => {
    const { products, createProduct } = setup();
    const first = products.seed({ sku: 'WIDGET-1', name: 'Original' });
    const result = await createProduct(ops.admin(), { ...input, name: 'Impostor' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('VALIDATION_FAILED');
    expect('issues' in result.error && result.error.issues.map((issue) => issue.path)).toEqual([['sku']]);
    expect([...products.rows.values()]).toEqual([first]);
  });

  it('does not touch the store once the request is aborted', async () => {
    const { products, createProduct } = setup();
    const controller = new AbortController();
    controller.abort();
    await expect(createProduct({ ...ops.admin(), signal: controller.signal }, input)).rejects.toThrow();
    expect(products.rows.size).toBe(0);
  });
});
