import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../../support/test-database.ts';
import { ops } from '../../../../fakes/catalog.ts';
import { createAdjustStock } from '../../../../../src/modules/catalog/application/adjust-stock.ts';
import { MikroOrmProductRepository } from '../../../../../src/modules/catalog/infrastructure/mikro-orm-product-repository.ts';
import { MikroOrmIdempotentProductWrites, pruneIdempotencyKeys } from '../../../../../src/modules/catalog/infrastructure/mikro-orm-idempotent-writes.ts';
import type { OpContext } from '../../../../../src/platform/op-context.ts';

// The use case on the real adapters, each call in its own EntityManager fork as a request has:
// on PostgreSQL (TEST_DATABASE_URL) the racing calls run on separate connections.
describe('adjustStock with an idempotency key, on the database', () => {
  const database = useTestDatabase();
  const adjust = (op: OpContext, input: Parameters<ReturnType<typeof createAdjustStock>>[1]) => {
    const em = database.orm.em.fork();
    return createAdjustStock({ products: new MikroOrmProductRepository(em), writes: new MikroOrmIdempotentProductWrites(em) })(op, input);
  };
  const newProduct = async (stock: number) => {
    const at = new Date(Date.UTC(2020, 0, 1));
    const product = { id: crypto.randomUUID(), sku: `IDEM-${crypto.randomUUID().slice(0, 8).toUpperCase()}`, name: 'Keyed', description: '', priceMinor: 1_000, stock, active: true, createdAt: at, updatedAt: at };
    await new MikroOrmProductRepository(database.orm.em.fork()).insert(product);
    return product.id;
  };
  const stockOf = async (id: string) => (await new MikroOrmProductRepository(database.orm.em.fork()).findByIds([id]))[0]?.stock;
  const keyRows = async (key: string) =>
    Number((await database.orm.em.fork().getConnection().execute<{ n: string }[]>('select count(*) as n from catalog_idempotency_keys where key = ?', [key]))[0]!.n);

  it('adds +5 once for 20 racing calls with one key, and answers all 20 with the same product', async () => {
    const productId = await newProduct(10);
    const admin = ops.admin();
    const idempotencyKey = crypto.randomUUID();
    const results = await Promise.all(Array.from({ length: 20 }, () => adjust(admin, { productId, delta: 5, idempotencyKey })));
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(Array(20).fill('ok'));
    const answers = results.map((r) => (r.ok ? JSON.stringify(r.value) : ''));
    expect(new Set(answers).size).toBe(1);
    expect(results[0]!.ok && results[0]!.value.stock).toBe(15);
    expect(await stockOf(productId)).toBe(15);
    expect(await keyRows(idempotencyKey)).toBe(1);
  });

  it('refuses the same key with another delta as IDEMPOTENCY_KEY_REUSED and leaves the stock', async () => {
    const productId = await newProduct(10);
    const admin = ops.admin();
    const idempotencyKey = crypto.randomUUID();
    await adjust(admin, { productId, delta: 5, idempotencyKey });
    const reused = await adjust(admin, { productId, delta: 4, idempotencyKey });
    expect(!reused.ok && reused.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await stockOf(productId)).toBe(15);
  });

  it("treats another caller's use of the same key as independent", async () => {
    const productId = await newProduct(10);
    const idempotencyKey = crypto.randomUUID();
    const first = await adjust(ops.admin(), { productId, delta: 5, idempotencyKey });
    const second = await adjust(ops.admin(), { productId, delta: 5, idempotencyKey });
    expect([first.ok && first.value.stock, second.ok && second.value.stock]).toEqual([15, 20]);
    expect(await keyRows(idempotencyKey)).toBe(2);
  });

  it('applies every call without a key', async () => {
    const productId = await newProduct(10);
    const admin = ops.admin();
    await Promise.all(Array.from({ length: 4 }, () => adjust(admin, { productId, delta: 5 })));
    expect(await stockOf(productId)).toBe(30);
  });

  it('stores no key when the adjustment is refused, so a corrected retry with the key applies', async () => {
    const productId = await newProduct(2);
    const admin = ops.admin();
    const idempotencyKey = crypto.randomUUID();
    const refused = await adjust(admin, { productId, delta: -3, idempotencyKey });
    expect(!refused.ok && refused.error.code).toBe('VALIDATION_FAILED');
    expect(await keyRows(idempotencyKey)).toBe(0);
    await adjust(admin, { productId, delta: 1 });
    const retried = await adjust(admin, { productId, delta: -3, idempotencyKey });
    expect(retried.ok && retried.value.stock).toBe(0);
  });

  it('applies again with a key older than 24 h, and the pruner deletes expired keys only', async () => {
    const productId = await newProduct(10);
    const admin = ops.admin();
    const [old, fresh] = [crypto.randomUUID(), crypto.randomUUID()];
    await adjust(admin, { productId, delta: 5, idempotencyKey: old });
    await adjust(admin, { productId, delta: 1, idempotencyKey: fresh });
    const connection = database.orm.em.fork().getConnection();
    await connection.execute(`update catalog_idempotency_keys set created_at = now() - interval '24 hours 1 second' where key = ?`, [old]);
    const again = await adjust(admin, { productId, delta: 5, idempotencyKey: old });
    expect(again.ok && again.value.stock).toBe(21);
    await connection.execute(`update catalog_idempotency_keys set created_at = now() - interval '25 hours' where key = ?`, [old]);
    expect(await pruneIdempotencyKeys(database.orm.em.fork())).toBeGreaterThanOrEqual(1);
    expect([await keyRows(old), await keyRows(fresh)]).toEqual([0, 1]);
  });
});
