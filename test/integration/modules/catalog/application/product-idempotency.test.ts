import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../../support/test-database.ts';
import { ops } from '../../../../fakes/catalog.ts';
import { createCreateProduct } from '../../../../../src/modules/catalog/application/create-product.ts';
import { createUpdateProduct } from '../../../../../src/modules/catalog/application/update-product.ts';
import { MikroOrmProductRepository } from '../../../../../src/modules/catalog/infrastructure/mikro-orm-product-repository.ts';
import { MikroOrmIdempotentProductWrites } from '../../../../../src/modules/catalog/infrastructure/mikro-orm-idempotent-writes.ts';

// createProduct and updateProduct on the real adapters, each call in its own EntityManager fork.
describe('createProduct and updateProduct with an idempotency key, on the database', () => {
  const database = useTestDatabase();
  const deps = () => {
    const em = database.orm.em.fork();
    return { products: new MikroOrmProductRepository(em), writes: new MikroOrmIdempotentProductWrites(em) };
  };
  const countSku = async (sku: string) =>
    Number((await database.orm.em.fork().getConnection().execute<{ n: string }[]>('select count(*) as n from catalog_products where sku = ?', [sku]))[0]!.n);

  it('creates one product for 20 racing calls with one key, and answers all 20 with it (not SKU taken)', async () => {
    const admin = ops.admin();
    const sku = `IDEM-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
    const idempotencyKey = crypto.randomUUID();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => createCreateProduct(deps())(admin, { sku, name: 'Raced', priceMinor: 500, stock: 3, idempotencyKey })),
    );
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(Array(20).fill('ok'));
    expect(new Set(results.map((r) => (r.ok ? JSON.stringify(r.value) : ''))).size).toBe(1);
    expect(await countSku(sku)).toBe(1);
  });

  it('updates once for 20 racing calls with one key: all 20 answer the one write, as stored', async () => {
    const admin = ops.admin();
    const created = await createCreateProduct(deps())(admin, { sku: `IDEM-${crypto.randomUUID().slice(0, 8).toUpperCase()}`, name: 'Lamp', priceMinor: 500, stock: 3 });
    const id = created.ok ? created.value.id : '';
    const idempotencyKey = crypto.randomUUID();
    const results = await Promise.all(Array.from({ length: 20 }, () => createUpdateProduct(deps())(admin, { id, name: 'Raced lamp', idempotencyKey })));
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(Array(20).fill('ok'));
    // Each write stamps its own updatedAt: one answer for all 20 is one write, and it is what is stored.
    const answers = new Set(results.map((r) => (r.ok ? JSON.stringify(r.value) : '')));
    expect(answers.size).toBe(1);
    expect(JSON.stringify((await deps().products.findByIds([id]))[0])).toBe([...answers][0]);
  });

  it('answers an update retry with the first result and refuses the key for other changes', async () => {
    const admin = ops.admin();
    const created = await createCreateProduct(deps())(admin, { sku: `IDEM-${crypto.randomUUID().slice(0, 8).toUpperCase()}`, name: 'Lamp', priceMinor: 500, stock: 3 });
    const id = created.ok ? created.value.id : '';
    const idempotencyKey = crypto.randomUUID();
    const first = await createUpdateProduct(deps())(admin, { id, name: 'Desk lamp', idempotencyKey });
    await createUpdateProduct(deps())(admin, { id, name: 'Floor lamp' });
    const retry = await createUpdateProduct(deps())(admin, { id, name: 'Desk lamp', idempotencyKey });
    expect(retry).toEqual(first);
    const reused = await createUpdateProduct(deps())(admin, { id, name: 'Table lamp', idempotencyKey });
    expect(!reused.ok && reused.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await deps().products.findByIds([id]))[0]?.name).toBe('Floor lamp');
  });
});
