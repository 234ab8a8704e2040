import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateProductDocument, PlaceOrderDocument, ProductDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { SimulatedPaymentProvider } from '../../src/modules/payments/module.ts';

let app: TestApp;
const provider = new SimulatedPaymentProvider({ latencyMs: 5, declineAboveMinor: 100_000 });

beforeAll(async () => {
  app = await startTestApp({ app: { paymentProvider: provider } });
});
afterAll(() => app?.stop());

async function newProduct(stock: number): Promise<string> {
  const admin = await app.demoToken('admin');
  const created = await app.execute(
    CreateProductDocument,
    { input: { sku: `RACE-${crypto.randomUUID().slice(0, 8).toUpperCase()}`, name: 'Contested item', price: '10.00', stock } },
    { token: admin },
  );
  if (created.data!.createProduct.__typename !== 'CreateProductSuccess') throw new Error(JSON.stringify(created));
  return created.data!.createProduct.product.id;
}

describe('concurrent checkouts', () => {
  it('sells exactly the last 10 units to 50 concurrent orders and ends at stock 0', async () => {
    const productId = await newProduct(10);
    const tokens = await Promise.all((['basic', 'premium', 'enterprise'] as const).map((who) => app.demoToken(who)));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        app.execute(PlaceOrderDocument, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } }, { token: tokens[i % 3]! }),
      ),
    );
    const outcomes = results.map((r) => r.data?.placeOrder.__typename ?? `errors:${JSON.stringify(r.errors)}`);
    expect(outcomes.filter((o) => o === 'PlaceOrderSuccess')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'OutOfStockError')).toHaveLength(40);
    const product = await app.execute(ProductDocument, { id: productId }, {});
    expect(product.data!.product!.stock).toBe(0);
  });

  it('charges once when the same idempotency key races in five requests, and all five get the same order', async () => {
    const productId = await newProduct(100);
    const token = await app.demoToken('basic');
    const idempotencyKey = crypto.randomUUID();
    const chargesBefore = provider.charges().length;
    const results = await Promise.all(
      Array.from({ length: 5 }, () => app.execute(PlaceOrderDocument, { input: { idempotencyKey, lines: [{ productId, quantity: 2 }] } }, { token })),
    );
    const ids = results.map((r) => (r.data!.placeOrder.__typename === 'PlaceOrderSuccess' ? r.data!.placeOrder.order.id : JSON.stringify(r)));
    expect(new Set(ids).size).toBe(1);
    expect(results.every((r) => r.data!.placeOrder.__typename === 'PlaceOrderSuccess')).toBe(true);
    expect(provider.charges().length - chargesBefore).toBe(1);
    const product = await app.execute(ProductDocument, { id: productId }, {});
    expect(product.data!.product!.stock).toBe(98);
  });
});
