import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdjustStockDocument, CreateProductDocument, ProductDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

// adjustStock's idempotency key through GraphQL over HTTP, each call a request of its own.
let app: TestApp;
let admin: string;

beforeAll(async () => {
  app = await startTestApp();
  admin = await app.demoToken('admin');
});
afterAll(() => app?.stop());

async function newProduct(stock: number): Promise<string> {
  const created = await app.execute(
    CreateProductDocument,
    { input: { sku: `IDEM-${crypto.randomUUID().slice(0, 8).toUpperCase()}`, name: 'Keyed item', price: '10.00', stock } },
    { token: admin },
  );
  if (created.data!.createProduct.__typename !== 'CreateProductSuccess') throw new Error(JSON.stringify(created));
  return created.data!.createProduct.product.id;
}

const stockOf = async (id: string) => (await app.execute(ProductDocument, { id }, {})).data!.product!.stock;

describe('adjustStock with an idempotency key over HTTP', () => {
  it('adds +5 once for 20 racing requests with one key, and all 20 get the same answer', async () => {
    const productId = await newProduct(10);
    const idempotencyKey = crypto.randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => app.execute(AdjustStockDocument, { input: { productId, delta: 5, idempotencyKey } }, { token: admin })),
    );
    expect(answers.map((a) => a.data?.adjustStock)).toEqual(Array(20).fill({ __typename: 'AdjustStockSuccess', product: { id: productId, stock: 15 } }));
    expect(await stockOf(productId)).toBe(15);
  });

  it('answers the same key with another delta with IdempotencyKeyReusedError, and adjusts nothing', async () => {
    const productId = await newProduct(10);
    const idempotencyKey = crypto.randomUUID();
    await app.execute(AdjustStockDocument, { input: { productId, delta: 5, idempotencyKey } }, { token: admin });
    const reused = await app.execute(AdjustStockDocument, { input: { productId, delta: 6, idempotencyKey } }, { token: admin });
    expect(reused.errors).toBeUndefined();
    expect(reused.data!.adjustStock).toMatchObject({ __typename: 'IdempotencyKeyReusedError', code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await stockOf(productId)).toBe(15);
  });

  it('applies every request without a key', async () => {
    const productId = await newProduct(10);
    await Promise.all(Array.from({ length: 3 }, () => app.execute(AdjustStockDocument, { input: { productId, delta: 5 } }, { token: admin })));
    expect(await stockOf(productId)).toBe(25);
  });
});
