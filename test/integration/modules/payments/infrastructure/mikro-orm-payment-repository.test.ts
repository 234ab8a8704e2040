import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../../support/test-database.ts';
import type { Payment } from '../../../../../src/modules/payments/domain/payment.ts';
import { newPendingPayment } from '../../../../../src/modules/payments/application/charge-order.ts';
import { MikroOrmPaymentRepository } from '../../../../../src/modules/payments/infrastructure/mikro-orm-payment-repository.ts';

const database = useTestDatabase();

const repository = () => new MikroOrmPaymentRepository(database.orm.em.fork());
const later = new Date('2026-11-21T11:30:00.000Z');

function pending(overrides: Partial<Payment> = {}): Payment & { status: 'PENDING' } {
  const orderId = overrides.orderId ?? crypto.randomUUID();
  const fresh = newPendingPayment({ orderId, amountMinor: 12_345, currency: 'USD' }, new Date('2026-11-21T10:00:00.000Z'));
  return { ...fresh, ...overrides, status: 'PENDING' };
}

async function stored(payment: Payment) {
  const pendingPayment = { ...payment, status: 'PENDING' } as const;
  expect(await repository().insertPending(pendingPayment)).toBe(true);
  return pendingPayment;
}

describe('MikroOrmPaymentRepository', () => {
  it('stores a pending payment and reads it back exactly, NULLs as null', async () => {
    const payment = pending({ amountMinor: 2 ** 40 });

    expect(await repository().insertPending(payment)).toBe(true);

    expect(await repository().findByOrderId(payment.orderId)).toEqual(payment);
  });

  it('returns null for an order without a payment', async () => {
    expect(await repository().findByOrderId(crypto.randomUUID())).toBeNull();
  });

  it('refuses a second payment for the same order and keeps the first', async () => {
    const first = await stored(pending());

    const second = pending({ orderId: first.orderId, idempotencyKey: 'another-key', amountMinor: 1 });
    expect(await repository().insertPending(second)).toBe(false);

    expect(await repository().findByOrderId(first.orderId)).toEqual(first);
  });

  it('refuses a reused idempotency key', async () => {
    const first = await stored(pending());

    expect(await repository().insertPending(pending({ idempotencyKey: first.idempotencyKey }))).toBe(false);
  });

  it('refuses a duplicate inside a transaction without aborting the transaction', async () => {
    const first = await stored(pending());

    const found = await database.orm.em.fork().transactional(async (tx) => {
      const repo = new MikroOrmPaymentRepository(tx);
      expect(await repo.insertPending(pending({ orderId: first.orderId }))).toBe(false);
      return repo.findByOrderId(first.orderId);
    });

    expect(found).toEqual(first);
  });

  it('finds the payments of several orders at once', async () => {
    const a = await stored(pending());
    const b = await stored(pending());
    await stored(pending());

    const found = await repository().findByOrderIds([a.orderId, b.orderId, crypto.randomUUID()]);

    expect(found.sort((x, y) => x.id.localeCompare(y.id))).toEqual([a, b].sort((x, y) => x.id.localeCompare(y.id)));
    expect(await repository().findByOrderIds([])).toEqual([]);
  });

  it('moves PENDING → SUCCEEDED → REFUNDED, each move only once', async () => {
    const payment = await stored(pending());
    const repo = repository();

    const succeeded = { ...payment, status: 'SUCCEEDED', providerChargeId: 'ch_1', updatedAt: later };
    // The stored row comes back, exactly as a later read returns it.
    expect(await repo.markSucceeded(payment.id, 'ch_1', later)).toEqual(succeeded);
    expect(await repo.markSucceeded(payment.id, 'ch_2', later)).toBeUndefined();
    expect(await repo.findByOrderId(payment.orderId)).toEqual(succeeded);

    const refundedAt = new Date(later.getTime() + 60_000);
    expect(await repo.markRefunded(payment.id, 're_1', refundedAt)).toBe(true);
    expect(await repo.markRefunded(payment.id, 're_2', refundedAt)).toBe(false);
    expect(await repo.findByOrderId(payment.orderId)).toEqual({
      ...payment,
      status: 'REFUNDED',
      providerChargeId: 'ch_1',
      providerRefundId: 're_1',
      updatedAt: refundedAt,
      refundedAt,
    });
  });

  it('moves PENDING → DECLINED and nothing further', async () => {
    const payment = await stored(pending());
    const repo = repository();

    expect(await repo.markDeclined(payment.id, 'insufficient_funds', 'No funds.', later)).toBe(true);
    expect(await repo.markSucceeded(payment.id, 'ch_1', later)).toBeUndefined();
    expect(await repo.markRefunded(payment.id, 're_1', later)).toBe(false);
    expect(await repo.markDeclined(payment.id, 'other', 'Other.', later)).toBe(false);

    expect(await repo.findByOrderId(payment.orderId)).toEqual({
      ...payment,
      status: 'DECLINED',
      declineCode: 'insufficient_funds',
      declineMessage: 'No funds.',
      updatedAt: later,
    });
  });

  it('refuses to refund a PENDING payment or to decline a SUCCEEDED one', async () => {
    const payment = await stored(pending());
    const repo = repository();

    expect(await repo.markRefunded(payment.id, 're_1', later)).toBe(false);
    expect(await repo.markSucceeded(payment.id, 'ch_1', later)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await repo.markDeclined(payment.id, 'late', 'Too late.', later)).toBe(false);

    expect(await repo.findByOrderId(payment.orderId)).toMatchObject({ status: 'SUCCEEDED', declineCode: null });
  });

  it('changes nothing for an unknown payment id', async () => {
    expect(await repository().markSucceeded(crypto.randomUUID(), 'ch_1', later)).toBeUndefined();
  });

  it('lets only one of two concurrent settlements win', async () => {
    const payment = await stored(pending());

    const results = await Promise.all([
      repository().markSucceeded(payment.id, 'ch_a', later),
      repository().markDeclined(payment.id, 'declined', 'No.', later),
    ]);

    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('has the database refuse a non-positive amount', async () => {
    await expect(repository().insertPending(pending({ amountMinor: 0 }))).rejects.toThrow(/check/i);
  });
});
