import { describe, expect, it } from 'vitest';
import type { CrashPointName, CrashPoints } from '../../../../../src/platform/crash-points.ts';
import { systemContext } from '../../../../../src/platform/op-context.ts';
import { PaymentDeclinedError, type Payment } from '../../../../../src/modules/payments/domain/payment.ts';
import { createChargeOrder } from '../../../../../src/modules/payments/application/charge-order.ts';
import { PaymentProviderUnavailableError } from '../../../../../src/modules/payments/application/ports.ts';
import { FakePaymentProvider, InMemoryPaymentRepository, paymentFixture, untilAborted } from '../../../../fakes/payments.ts';

const at = new Date('2026-11-21T12:00:00Z');

function setUp(timeoutMs = 5_000, crashPoints?: CrashPoints) {
  const payments = new InMemoryPaymentRepository();
  const provider = new FakePaymentProvider();
  const chargeOrder = createChargeOrder({ payments, provider, timeoutMs, now: () => at, ...(crashPoints ? { crashPoints } : {}) });
  const orderId = crypto.randomUUID();
  return { payments, provider, chargeOrder, orderId, input: { orderId, amountMinor: 12_345, currency: 'USD' } };
}

describe('chargeOrder', () => {
  it('writes the payment, charges it with the order-derived key and records SUCCEEDED', async () => {
    const { payments, provider, chargeOrder, orderId, input } = setUp();
    provider.onCharge = async () => {
      // The row, with the attempt counted, must exist before money can move.
      expect(await payments.findByOrderId(orderId)).toMatchObject({ status: 'PENDING', attemptCount: 1, lastAttemptAt: at });
      return { outcome: 'SUCCEEDED', chargeId: 'ch_1' };
    };

    const result = await chargeOrder(systemContext('test'), input);

    expect(result.ok && result.value).toMatchObject({
      orderId,
      idempotencyKey: `order_${orderId}_charge`,
      amountMinor: 12_345,
      currency: 'USD',
      status: 'SUCCEEDED',
      providerChargeId: 'ch_1',
      updatedAt: at,
      attemptCount: 1,
      lastAttemptAt: at,
      lastError: null,
      refundRequestedAt: null,
    });
    expect(provider.chargeCalls.map((c) => c.request)).toEqual([
      { idempotencyKey: `order_${orderId}_charge`, amountMinor: 12_345, currency: 'USD', orderId },
    ]);
    expect(payments.all()).toEqual([result.ok && result.value]);
  });

  it('returns PAYMENT_DECLINED and records the decline', async () => {
    const { payments, provider, chargeOrder, orderId, input } = setUp();
    provider.onCharge = async () => ({ outcome: 'DECLINED', code: 'card_declined', message: 'The card was declined.' });

    const result = await chargeOrder(systemContext('test'), input);

    expect(result.ok).toBe(false);
    const error = !result.ok ? result.error : undefined;
    expect(error).toBeInstanceOf(PaymentDeclinedError);
    expect(error).toMatchObject({ code: 'PAYMENT_DECLINED', orderId, declineCode: 'card_declined', message: 'The card was declined.' });
    expect(await payments.findByOrderId(orderId)).toMatchObject({
      status: 'DECLINED',
      declineCode: 'card_declined',
      declineMessage: 'The card was declined.',
      providerChargeId: null,
    });
  });

  it('never calls the provider again once the charge succeeded', async () => {
    const { provider, chargeOrder, input } = setUp();
    const first = await chargeOrder(systemContext('test'), input);
    const second = await chargeOrder(systemContext('test'), input);

    expect(provider.chargeCalls).toHaveLength(1);
    expect(second).toEqual(first);
    expect(second.ok && second.value.attemptCount).toBe(1);
  });

  it('returns the same decline again without calling the provider', async () => {
    const { provider, chargeOrder, orderId, input } = setUp();
    provider.onCharge = async () => ({ outcome: 'DECLINED', code: 'insufficient_funds', message: 'No funds.' });
    await chargeOrder(systemContext('test'), input);

    const again = await chargeOrder(systemContext('test'), input);

    expect(provider.chargeCalls).toHaveLength(1);
    expect(!again.ok && again.error).toMatchObject({ orderId, declineCode: 'insufficient_funds', message: 'No funds.' });
  });

  it('re-drives a payment left PENDING with its own idempotency key and settles it', async () => {
    const { payments, provider, chargeOrder, orderId, input } = setUp();
    const stuck = paymentFixture({ orderId, amountMinor: input.amountMinor, idempotencyKey: 'key-from-the-first-attempt' });
    payments.seed(stuck);

    const result = await chargeOrder(systemContext('test'), input);

    expect(provider.chargeCalls.map((c) => c.request.idempotencyKey)).toEqual(['key-from-the-first-attempt']);
    expect(result.ok && result.value).toMatchObject({ id: stuck.id, status: 'SUCCEEDED', providerChargeId: 'ch_fake_1' });
    expect(payments.all()).toHaveLength(1);
  });

  it('leaves the payment PENDING and throws when the provider does not answer in time; a retry settles it', async () => {
    const { payments, provider, chargeOrder, orderId, input } = setUp(5);
    provider.onCharge = (_request, signal) => untilAborted(signal);

    const failed = chargeOrder(systemContext('test'), input);

    await expect(failed).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    expect(provider.chargeCalls[0]?.signal.reason).toMatchObject({ name: 'TimeoutError' });
    expect(await payments.findByOrderId(orderId)).toMatchObject({ status: 'PENDING', attemptCount: 1, lastError: 'aborted' });

    provider.onCharge = async () => ({ outcome: 'SUCCEEDED', chargeId: 'ch_late' });
    const retried = await chargeOrder(systemContext('test'), input);

    expect(retried.ok && retried.value).toMatchObject({ status: 'SUCCEEDED', providerChargeId: 'ch_late', attemptCount: 2 });
    const keys = provider.chargeCalls.map((c) => c.request.idempotencyKey);
    expect(keys).toEqual([`order_${orderId}_charge`, `order_${orderId}_charge`]);
  });

  it('leaves the payment PENDING and propagates a provider failure', async () => {
    const { payments, provider, chargeOrder, orderId, input } = setUp();
    const outage = new PaymentProviderUnavailableError('connection refused');
    provider.onCharge = async () => {
      throw outage;
    };

    await expect(chargeOrder(systemContext('test'), input)).rejects.toBe(outage);
    expect(await payments.findByOrderId(orderId)).toMatchObject({ status: 'PENDING' });
  });

  it('stops the provider call when the operation is aborted, leaving the payment PENDING', async () => {
    const { payments, provider, chargeOrder, orderId, input } = setUp();
    const controller = new AbortController();
    const reason = new Error('client went away');
    provider.onCharge = (_request, signal) => {
      controller.abort(reason);
      return untilAborted(signal);
    };

    await expect(chargeOrder(systemContext('test', controller.signal), input)).rejects.toBe(reason);
    expect(provider.chargeCalls[0]?.signal.aborted).toBe(true);
    expect(await payments.findByOrderId(orderId)).toMatchObject({ status: 'PENDING' });
  });

  it('does nothing for an operation aborted before it starts', async () => {
    const { payments, provider, chargeOrder, input } = setUp();
    const controller = new AbortController();
    controller.abort();

    await expect(chargeOrder(systemContext('test', controller.signal), input)).rejects.toThrow();
    expect(provider.chargeCalls).toHaveLength(0);
    expect(payments.all()).toHaveLength(0);
  });

  it('records an answer that arrives after the operation was aborted, since money moved', async () => {
    const { payments, provider, chargeOrder, orderId, input } = setUp();
    const controller = new AbortController();
    provider.onCharge = async () => {
      controller.abort();
      return { outcome: 'SUCCEEDED', chargeId: 'ch_anyway' };
    };

    const result = await chargeOrder(systemContext('test', controller.signal), input);

    expect(result.ok && result.value.status).toBe('SUCCEEDED');
    expect(await payments.findByOrderId(orderId)).toMatchObject({ status: 'SUCCEEDED', providerChargeId: 'ch_anyway' });
  });

  it('settles concurrent calls for the same order into one payment under one key', async () => {
    const { payments, provider, chargeOrder, orderId, input } = setUp();

    const [a, b] = await Promise.all([chargeOrder(systemContext('a'), input), chargeOrder(systemContext('b'), input)]);

    expect(payments.all()).toHaveLength(1);
    const stored = await payments.findByOrderId(orderId);
    expect(a).toEqual({ ok: true, value: stored });
    expect(b).toEqual({ ok: true, value: stored });
    expect(new Set(provider.chargeCalls.map((c) => c.request.idempotencyKey))).toEqual(new Set([`order_${orderId}_charge`]));
  });

  it.each<[string, (n: number) => Promise<never> | Promise<{ outcome: 'SUCCEEDED'; chargeId: string } | { outcome: 'DECLINED'; code: string; message: string }>]>([
    ['succeeds', async (n) => ({ outcome: 'SUCCEEDED', chargeId: `ch_${n}` })],
    ['declines', async () => ({ outcome: 'DECLINED', code: 'card_declined', message: 'Declined.' })],
    ['throws', async () => Promise.reject(new PaymentProviderUnavailableError('connection reset'))],
  ])('counts the attempt on record before the provider is called when the call %s', async (_name, answer) => {
    const { payments, provider, chargeOrder, orderId, input } = setUp();
    const seenByProvider: (Payment | null)[] = [];
    provider.onCharge = async () => {
      seenByProvider.push(await payments.findByOrderId(orderId));
      return answer(provider.chargeCalls.length);
    };

    await chargeOrder(systemContext('test'), input).catch(() => undefined);

    expect(seenByProvider).toEqual([expect.objectContaining({ status: 'PENDING', attemptCount: 1, lastAttemptAt: at })]);
    expect(await payments.findByOrderId(orderId)).toMatchObject({ attemptCount: 1, lastAttemptAt: at });
  });

  it('notes why the last attempt failed, and counts each re-drive as a new attempt', async () => {
    const { payments, provider, chargeOrder, orderId, input } = setUp();
    provider.onCharge = async () => {
      throw new PaymentProviderUnavailableError(`connection refused #${provider.chargeCalls.length}`);
    };

    await expect(chargeOrder(systemContext('test'), input)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    await expect(chargeOrder(systemContext('test'), input)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);

    expect(await payments.findByOrderId(orderId)).toMatchObject({ status: 'PENDING', attemptCount: 2, lastError: 'connection refused #2' });
  });

  it('reaches the crash points around the provider call: after the attempt is on record, and before the answer is', async () => {
    const seen: { name: CrashPointName; stored: Payment | null; calls: number }[] = [];
    const crashPoints: CrashPoints = {
      reach: (name) => {
        // reach() is synchronous: look at the repository's state at this very moment.
        seen.push({ name, stored: world.payments.all()[0] ?? null, calls: world.provider.chargeCalls.length });
      },
    };
    const world = setUp(5_000, crashPoints);

    await world.chargeOrder(systemContext('test'), world.input);

    expect(seen.map(({ name, calls }) => ({ name, calls }))).toEqual([
      { name: 'payment.before-charge', calls: 0 },
      { name: 'payment.after-charge', calls: 1 },
    ]);
    expect(seen[0]?.stored).toMatchObject({ status: 'PENDING', attemptCount: 1 });
    expect(seen[1]?.stored).toMatchObject({ status: 'PENDING' });
  });

  it('refunds a charge that lands after the reconciler VOIDED the payment and answers PAYMENT_DECLINED payment_voided', async () => {
    const { payments, provider, chargeOrder, orderId, input } = setUp();
    provider.onCharge = async () => {
      // Meanwhile the reconciler found no charge for the key and closed the attempt.
      const pending = await payments.findByOrderId(orderId);
      expect(await payments.markVoided(pending!.id, at)).toBe(true);
      return { outcome: 'SUCCEEDED', chargeId: 'ch_late' };
    };
    provider.onRefund = async () => ({ refundId: 're_late' });

    const result = await chargeOrder(systemContext('test'), input);

    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toBeInstanceOf(PaymentDeclinedError);
    expect(!result.ok && result.error).toMatchObject({ code: 'PAYMENT_DECLINED', orderId, declineCode: 'payment_voided' });
    expect(provider.refundCalls.map((c) => c.request)).toEqual([
      { idempotencyKey: `order_${orderId}_refund`, chargeId: 'ch_late', amountMinor: input.amountMinor, currency: 'USD' },
    ]);
    expect(await payments.findByOrderId(orderId)).toMatchObject({
      status: 'REFUNDED',
      providerChargeId: 'ch_late',
      providerRefundId: 're_late',
      refundedAt: at,
    });
  });

  // Known bug (see the report): charge-order.ts refundLateCharge sends the refund without calling
  // payments.requestRefund first, so if that refund fails or the process dies, the VOIDED payment is
  // never listed by findUnfinishedRefunds and the late charge stays with the provider for good.
  it('puts the refund of a late charge on record before sending it, so a failed refund is retried by the reconciler', async () => {
    const { payments, provider, chargeOrder, orderId, input } = setUp();
    provider.onCharge = async () => {
      await payments.markVoided((await payments.findByOrderId(orderId))!.id, at);
      return { outcome: 'SUCCEEDED', chargeId: 'ch_late' };
    };
    const storedWhenRefundSent: (Payment | null)[] = [];
    const outage = new PaymentProviderUnavailableError('provider down');
    provider.onRefund = async () => {
      storedWhenRefundSent.push(await payments.findByOrderId(orderId));
      throw outage;
    };

    await expect(chargeOrder(systemContext('test'), input)).rejects.toBe(outage);

    // The charge stands at the provider for an order that failed: it must not be forgotten.
    expect(storedWhenRefundSent).toEqual([expect.objectContaining({ status: 'VOIDED', refundRequestedAt: at })]);
    const later = new Date(at.getTime() + 60_000);
    expect((await payments.findUnfinishedRefunds(later, 10)).map((p) => p.orderId)).toEqual([orderId]);
  });

  it.each([
    ['VOIDED', { status: 'VOIDED' as const }, { ok: false, declineCode: 'payment_voided' }],
    ['REFUNDED', { status: 'REFUNDED' as const, providerChargeId: 'ch_0', providerRefundId: 're_0' }, { ok: true, declineCode: undefined }],
  ])('answers a %s payment as it stands without calling the provider', async (_name, stored, expected) => {
    const { payments, provider, chargeOrder, orderId, input } = setUp();
    const payment = paymentFixture({ orderId, amountMinor: input.amountMinor, ...stored });
    payments.seed(payment);

    const result = await chargeOrder(systemContext('test'), input);

    expect(result.ok).toBe(expected.ok);
    if (result.ok) expect(result.value).toEqual(payment);
    else expect(result.error).toMatchObject({ code: 'PAYMENT_DECLINED', declineCode: expected.declineCode });
    expect(provider.callCount).toBe(0);
    expect(await payments.findByOrderId(orderId)).toEqual(payment);
  });

  it('refuses to charge an order again with a different amount', async () => {
    const { provider, chargeOrder, input } = setUp();
    await chargeOrder(systemContext('test'), input);

    await expect(chargeOrder(systemContext('test'), { ...input, amountMinor: input.amountMinor + 1 })).rejects.toBeInstanceOf(RangeError);
    expect(provider.chargeCalls).toHaveLength(1);
  });

  it.each([
    ['a zero amount', { amountMinor: 0 }],
    ['a fractional amount', { amountMinor: 10.5 }],
    ['an unsafe amount', { amountMinor: 2 ** 53 }],
    ['a lower-case currency', { currency: 'usd' }],
  ])('throws RangeError for %s without writing anything', async (_name, override) => {
    const { payments, provider, chargeOrder, input } = setUp();

    await expect(chargeOrder(systemContext('test'), { ...input, ...override })).rejects.toBeInstanceOf(RangeError);
    expect(payments.all()).toHaveLength(0);
    expect(provider.chargeCalls).toHaveLength(0);
  });
});
