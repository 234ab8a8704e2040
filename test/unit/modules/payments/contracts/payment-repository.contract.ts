import { describe, expect, it } from 'vitest';
import type { Payment } from '../../../../../src/modules/payments/domain/payment.ts';
import { newPendingPayment } from '../../../../../src/modules/payments/application/charge-order.ts';
import type { PaymentRepository } from '../../../../../src/modules/payments/application/ports.ts';

// The PaymentRepository contract: the cases the in-memory fake (test/fakes/payments.ts, run by
// payment-repository.fake.test.ts) and the PostgreSQL repository (run by
// test/integration/modules/payments/contracts/payment-repository.postgres.test.ts) both pass.
// The reconciler's lists are read with instants of 1999, before every other case's payments.

const T = new Date('2026-11-21T10:00:00.000Z');
const pendingOf = (at = T): Payment & { status: 'PENDING' } => ({ ...newPendingPayment({ orderId: crypto.randomUUID(), amountMinor: 12_345, currency: 'USD' }, at), status: 'PENDING' });
const minutesAfter = (at: Date, minutes: number) => new Date(at.getTime() + minutes * 60_000);

/** Runs the contract against the repositories `repo` returns (they must share one store). */
export function describePaymentRepositoryContract(name: string, repo: () => PaymentRepository): void {
  describe(`${name}: the PaymentRepository contract`, () => {
    const stored = async (at = T) => {
      const payment = pendingOf(at);
      expect(await repo().insertPending(payment)).toBe(true);
      return payment;
    };

    it('stores a pending payment and reads it back exactly (NULLs as null), by order and by orders', async () => {
      const payment = { ...pendingOf(), amountMinor: 2 ** 40 };
      expect(await repo().insertPending(payment)).toBe(true);
      expect(await repo().findByOrderId(payment.orderId)).toEqual(payment);
      expect(await repo().findByOrderIds([crypto.randomUUID(), payment.orderId])).toEqual([payment]);
      expect(await repo().findByOrderId(crypto.randomUUID())).toBeNull();
      expect(await repo().findByOrderIds([])).toEqual([]);
    });

    it('refuses a second payment of an order, or a reused idempotency key, and keeps the first', async () => {
      const first = await stored();
      expect(await repo().insertPending({ ...pendingOf(), orderId: first.orderId })).toBe(false);
      expect(await repo().insertPending({ ...pendingOf(), idempotencyKey: first.idempotencyKey })).toBe(false);
      expect(await repo().findByOrderId(first.orderId)).toEqual(first);
    });

    it('settles PENDING once: SUCCEEDED answers the stored payment, a second settlement changes nothing', async () => {
      const payment = await stored();
      const at = minutesAfter(T, 1);
      const succeeded = { ...payment, status: 'SUCCEEDED' as const, providerChargeId: 'ch_1', updatedAt: at };
      expect(await repo().markSucceeded(payment.id, 'ch_1', at)).toEqual(succeeded);
      expect(await repo().markSucceeded(payment.id, 'ch_2', minutesAfter(T, 2))).toBeUndefined();
      expect(await repo().markDeclined(payment.id, 'card_declined', 'No.', minutesAfter(T, 2))).toBe(false);
      expect(await repo().findByOrderId(payment.orderId)).toEqual(succeeded);
    });

    it('declines PENDING with the reason; voids PENDING; refunds SUCCEEDED, or VOIDED with the late charge id', async () => {
      const declined = await stored();
      expect(await repo().markDeclined(declined.id, 'card_declined', 'Declined.', minutesAfter(T, 1))).toBe(true);
      expect(await repo().findByOrderId(declined.orderId)).toEqual({ ...declined, status: 'DECLINED', declineCode: 'card_declined', declineMessage: 'Declined.', updatedAt: minutesAfter(T, 1) });

      const voided = await stored();
      expect(await repo().markRefunded(voided.id, 're_0', minutesAfter(T, 1))).toBe(false);
      expect(await repo().markVoided(voided.id, minutesAfter(T, 1))).toBe(true);
      expect(await repo().markRefunded(voided.id, 're_1', minutesAfter(T, 2), 'ch_late')).toBe(true);
      const refundedAt = minutesAfter(T, 2);
      expect(await repo().findByOrderId(voided.orderId)).toEqual({ ...voided, status: 'REFUNDED', providerChargeId: 'ch_late', providerRefundId: 're_1', updatedAt: refundedAt, refundedAt });

      const charged = await stored();
      await repo().markSucceeded(charged.id, 'ch_3', minutesAfter(T, 1));
      expect(await repo().markRefunded(charged.id, 're_3', minutesAfter(T, 3), 'ch_other')).toBe(false);
      expect(await repo().markRefunded(charged.id, 're_3', minutesAfter(T, 3))).toBe(true);
      expect(await repo().findByOrderId(charged.orderId)).toMatchObject({ status: 'REFUNDED', providerChargeId: 'ch_3', providerRefundId: 're_3' });
    });

    it('counts attempts, keeps the last error (at most 1,000 characters) and the first refund request', async () => {
      const payment = await stored();
      await repo().recordAttempt(payment.id, minutesAfter(T, 1));
      await repo().recordAttempt(payment.id, minutesAfter(T, 2));
      await repo().recordAttemptError(payment.id, 'x'.repeat(1_500));
      await repo().requestRefund(payment.id, minutesAfter(T, 3));
      await repo().requestRefund(payment.id, minutesAfter(T, 4));
      expect(await repo().findByOrderId(payment.orderId)).toEqual({
        ...payment,
        attemptCount: payment.attemptCount + 2,
        lastAttemptAt: minutesAfter(T, 2),
        updatedAt: minutesAfter(T, 2),
        lastError: 'x'.repeat(1_000),
        refundRequestedAt: minutesAfter(T, 3),
      });
    });

    it('lists PENDING payments last touched before an instant, oldest first, at most `limit`', async () => {
      const days = [3, 1, 2].map((day) => new Date(Date.UTC(1999, 5, day)));
      const stale = [];
      for (const at of days) stale.push(await stored(at));
      const settled = await stored(new Date(Date.UTC(1999, 5, 4)));
      await repo().markDeclined(settled.id, 'card_declined', 'No.', new Date(Date.UTC(1999, 5, 4)));
      const expected = [...stale].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
      const before = new Date(Date.UTC(2000, 0, 1));
      expect(await repo().findStalePending(before, 10)).toEqual(expected);
      expect(await repo().findStalePending(before, 2)).toEqual(expected.slice(0, 2));
    });

    it('lists SUCCEEDED or VOIDED payments whose refund was asked before an instant, oldest request first', async () => {
      const at = new Date(Date.UTC(1999, 0, 1));
      const [charged, voided, asked] = [await stored(at), await stored(at), await stored(at)];
      await repo().markSucceeded(charged.id, 'ch_a', at);
      await repo().markVoided(voided.id, at);
      await repo().markSucceeded(asked.id, 'ch_b', at);
      await repo().requestRefund(charged.id, new Date(Date.UTC(1999, 0, 3)));
      await repo().requestRefund(voided.id, new Date(Date.UTC(1999, 0, 2)));
      const listed = await repo().findUnfinishedRefunds(new Date(Date.UTC(2000, 0, 1)), 10);
      expect(listed.map((p) => p.id)).toEqual([voided.id, charged.id]);
      expect(await repo().findUnfinishedRefunds(new Date(Date.UTC(1999, 0, 2, 12)), 10)).toEqual([listed[0]]);
    });
  });
}
