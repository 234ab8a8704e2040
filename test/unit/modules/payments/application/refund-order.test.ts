import { describe, expect, it } from 'vitest';
import { systemContext } from '../../../../../src/platform/op-context.ts';
import type { PaymentStatus } from '../../../../../src/modules/payments/domain/payment.ts';
import { PaymentProviderUnavailableError } from '../../../../../src/modules/payments/application/ports.ts';
import { createRefundOrder } from '../../../../../src/modules/payments/application/refund-order.ts';
import { FakePaymentProvider, InMemoryPaymentRepository, paymentFixture, untilAborted } from '../../../../fakes/payments.ts';

const at = new Date('2026-11-21T12:00:00Z');

function setUp(timeoutMs = 5_000) {
  const payments = new InMemoryPaymentRepository();
  const provider = new FakePaymentProvider();
  const refundOrder = createRefundOrder({ payments, provider, timeoutMs, now: () => at });
  return { payments, provider, refundOrder };
}

const succeeded = () => paymentFixture({ status: 'SUCCEEDED', providerChargeId: 'ch_1', amountMinor: 2_500 });

describe('refundOrder', () => {
  it('refunds a succeeded payment in full with the order-derived key and records REFUNDED', async () => {
    const { payments, provider, refundOrder } = setUp();
    const payment = succeeded();
    payments.seed(payment);
    const storedWhenSent: unknown[] = [];
    provider.onRefund = async () => {
      // The request is on record before the refund leaves, so a crash now is retried by the reconciler.
      storedWhenSent.push(await payments.findByOrderId(payment.orderId));
      return { refundId: `re_fake_${provider.refundCalls.length}` };
    };

    const result = await refundOrder(systemContext('test'), { orderId: payment.orderId });

    expect(provider.refundCalls.map((c) => c.request)).toEqual([
      { idempotencyKey: `order_${payment.orderId}_refund`, chargeId: 'ch_1', amountMinor: 2_500, currency: 'USD' },
    ]);
    const expected = { ...payment, status: 'REFUNDED', providerRefundId: 're_fake_1', updatedAt: at, refundedAt: at, refundRequestedAt: at };
    expect(result).toEqual({ ok: true, value: expected });
    expect(await payments.findByOrderId(payment.orderId)).toEqual(expected);
    expect(storedWhenSent).toEqual([{ ...payment, refundRequestedAt: at }]);
  });

  it('returns an already refunded payment without calling the provider', async () => {
    const { payments, provider, refundOrder } = setUp();
    const payment = succeeded();
    payments.seed(payment);
    const first = await refundOrder(systemContext('test'), { orderId: payment.orderId });

    const second = await refundOrder(systemContext('test'), { orderId: payment.orderId });

    expect(provider.refundCalls).toHaveLength(1);
    expect(second).toEqual(first);
  });

  it('returns null for an order that was never charged', async () => {
    const { provider, refundOrder } = setUp();

    expect(await refundOrder(systemContext('test'), { orderId: crypto.randomUUID() })).toEqual({ ok: true, value: null });
    expect(provider.refundCalls).toHaveLength(0);
  });

  it.each<PaymentStatus>(['DECLINED', 'PENDING', 'VOIDED'])('returns a %s payment unchanged without calling the provider', async (status) => {
    const { payments, provider, refundOrder } = setUp();
    const payment = paymentFixture({ status, ...(status === 'DECLINED' ? { declineCode: 'x', declineMessage: 'y' } : {}) });
    payments.seed(payment);

    expect(await refundOrder(systemContext('test'), { orderId: payment.orderId })).toEqual({ ok: true, value: payment });
    expect(provider.refundCalls).toHaveLength(0);
    expect(await payments.findByOrderId(payment.orderId)).toEqual(payment);
  });

  it('keeps the payment SUCCEEDED when the provider times out; a retry uses the same key', async () => {
    const { payments, provider, refundOrder } = setUp(5);
    const payment = succeeded();
    payments.seed(payment);
    provider.onRefund = (_request, signal) => untilAborted(signal);

    await expect(refundOrder(systemContext('test'), { orderId: payment.orderId })).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    // Still SUCCEEDED, with the refund requested on record: the reconciler lists it until it is done.
    expect(await payments.findByOrderId(payment.orderId)).toEqual({ ...payment, refundRequestedAt: at });
    expect(await payments.findUnfinishedRefunds(new Date(at.getTime() + 1), 10)).toEqual([{ ...payment, refundRequestedAt: at }]);

    provider.onRefund = async () => ({ refundId: 're_retry' });
    const retried = await refundOrder(systemContext('test'), { orderId: payment.orderId });

    expect(retried.ok && retried.value).toMatchObject({ status: 'REFUNDED', providerRefundId: 're_retry', refundRequestedAt: at });
    const keys = provider.refundCalls.map((c) => c.request.idempotencyKey);
    expect(keys).toEqual([`order_${payment.orderId}_refund`, `order_${payment.orderId}_refund`]);
  });

  it('returns what a concurrent refund recorded when it lost the race', async () => {
    const { payments, provider, refundOrder } = setUp();
    const payment = succeeded();
    payments.seed(payment);

    const [a, b] = await Promise.all([
      refundOrder(systemContext('a'), { orderId: payment.orderId }),
      refundOrder(systemContext('b'), { orderId: payment.orderId }),
    ]);

    const stored = await payments.findByOrderId(payment.orderId);
    expect(stored).toMatchObject({ status: 'REFUNDED' });
    expect(a).toEqual({ ok: true, value: stored });
    expect(b).toEqual({ ok: true, value: stored });
    expect(new Set(provider.refundCalls.map((c) => c.request.idempotencyKey)).size).toBe(1);
  });
});
