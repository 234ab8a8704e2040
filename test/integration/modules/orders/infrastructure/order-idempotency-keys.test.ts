import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../../support/test-database.ts';
import type { Order, OrderStatusChange } from '../../../../../src/modules/orders/domain/order.ts';
import { createCatalogModule } from '../../../../../src/modules/catalog/module.ts';
import { createPaymentsModule, SimulatedPaymentProvider } from '../../../../../src/modules/payments/module.ts';
import { MikroOrmOrdersUnitOfWork } from '../../../../../src/modules/orders/infrastructure/mikro-orm-orders-unit-of-work.ts';
import { pruneOrderIdempotencyKeys } from '../../../../../src/modules/orders/infrastructure/mikro-orm-order-idempotency.ts';
import { MikroOrmOrderReader } from '../../../../../src/modules/orders/infrastructure/mikro-orm-order-repository.ts';
import { draftOf } from '../../../../unit/modules/orders/contracts/order-reader.contract.ts';
import { ok } from '../../../../../src/platform/result.ts';

// orders_idempotency_keys through the unit of work (ADR 0013, orders).
const database = useTestDatabase();

const uow = () =>
  new MikroOrmOrdersUnitOfWork(database.orm.em.fork(), {
    stockReservations: createCatalogModule({ currency: 'USD' }).stockReservations,
    paymentStatements: createPaymentsModule({ provider: new SimulatedPaymentProvider({ latencyMs: 0, declineAboveMinor: Number.MAX_SAFE_INTEGER }), callBudgetMs: 1_000 }).paymentStatements,
  });
const sql = <R = Record<string, unknown>>(query: string, params: unknown[] = []) => database.orm.em.fork().getConnection().execute<R[]>(query, params);

let customerId: string;
let productId: string;
beforeAll(async () => {
  customerId = crypto.randomUUID();
  await sql('insert into customers (id, email, name, password_hash) values (?, ?, ?, ?)', [customerId, `${customerId}@example.com`, 'Keyed', 'hash']);
  productId = crypto.randomUUID();
  await sql('insert into catalog_products (id, sku, name, price_minor, stock, active) values (?, ?, ?, ?, ?, ?)', [productId, `K-${productId.slice(0, 12)}`, 'Widget', 1_000, 100, true]);
});

async function placed(): Promise<Order> {
  const draft = draftOf(customerId, new Date('2026-02-01T10:00:00.000Z'), {});
  const created: OrderStatusChange = { orderId: draft.id, customerId, version: 1, from: null, to: draft.status, at: draft.createdAt, actor: null, reason: null };
  const line = { position: 1, productId, productName: 'Widget', quantity: 1, unitPriceMinor: 1_000, lineTotalMinor: 1_000 };
  const result = await uow().transaction(async (tx) => ok(await tx.insertOrder(draft, [line], created)));
  if (!result.ok || result.value === 'DUPLICATE_IDEMPOTENCY_KEY') throw new Error('insert failed');
  return result.value;
}

const cancelOf = (order: Order): OrderStatusChange => ({
  orderId: order.id,
  customerId,
  version: order.version + 1,
  from: order.status,
  to: 'CANCELLED',
  at: new Date('2026-02-01T11:00:00.123Z'),
  actor: null,
  reason: null,
});

const claimFor = (key: string, fingerprint = 'fp-1') => ({ identity: `customer:${customerId}`, key, fingerprint });

describe('orders idempotency keys in the unit of work', () => {
  it('refuses a status change after the claim (ADR 0012: the move comes first), and writes nothing', async () => {
    const order = await placed();
    const key = crypto.randomUUID();
    await expect(
      uow().transaction(async (tx) => {
        await tx.claimKey(claimFor(key), order);
        return ok(await tx.saveStatusChange(cancelOf(order)));
      }),
    ).rejects.toThrow(/first write of its transaction/);
    expect(await uow().storedAnswer(claimFor(key))).toBeUndefined();
    expect((await new MikroOrmOrderReader(database.orm.em.fork()).findByIds([order.id]))[0]?.version).toBe(1);
  });

  it('stores the answer with the move; the stored order equals it; a second claim of the key is refused', async () => {
    const order = await placed();
    const key = crypto.randomUUID();
    const moved = await uow().transaction(async (tx) => {
      const updated = await tx.saveStatusChange(cancelOf(order));
      if (!updated) throw new Error('did not move');
      return ok({ updated, claimed: await tx.claimKey(claimFor(key), updated) });
    });
    expect(moved.ok && moved.value.claimed).toBe(true);
    if (!moved.ok) return;
    expect(await uow().storedAnswer(claimFor(key))).toEqual({ fingerprint: 'fp-1', order: moved.value.updated });
    const again = await uow().transaction(async (tx) => ok(await tx.claimKey(claimFor(key, 'fp-2'), moved.value.updated)));
    expect(again).toEqual(ok(false));
  });

  it('ignores a key older than 24 h, lets it be claimed again, and prunes expired keys', async () => {
    const order = await placed();
    const key = crypto.randomUUID();
    await uow().transaction(async (tx) => ok(await tx.claimKey(claimFor(key), order)));
    await sql("update orders_idempotency_keys set created_at = now() - interval '25 hours' where key = ?", [key]);
    expect(await uow().storedAnswer(claimFor(key))).toBeUndefined();
    expect(await uow().transaction(async (tx) => ok(await tx.claimKey(claimFor(key, 'fp-2'), order)))).toEqual(ok(true));
    expect((await uow().storedAnswer(claimFor(key)))?.fingerprint).toBe('fp-2');
    await sql("update orders_idempotency_keys set created_at = now() - interval '25 hours' where key = ?", [key]);
    expect(await pruneOrderIdempotencyKeys(database.orm.em.fork())).toBeGreaterThanOrEqual(1);
    expect(await sql('select 1 from orders_idempotency_keys where key = ?', [key])).toEqual([]);
  });
});
