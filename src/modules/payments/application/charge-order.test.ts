import { describe, expect, it } from 'vitest';
import { systemContext } from '../../../platform/op-context.ts';
import { PaymentDeclinedError } from '../domain/payment.ts';
import { createChargeOrder } from './charge-order.ts';
import { PaymentProviderUnavailableError } from './ports.ts';
import { FakePaymentProvider, InMemoryPaymentRepository, paymentFixture, untilAborted } from './testing/fakes.ts';

const at = new Date('2026-11-21T12:00:00Z');

function setUp(timeoutMs = 5_000) {
  const payments = new InMemoryPaymentRepository();
  const provider = new FakePaymentProvider();
  const chargeOrder = createChargeOrder({ payments, provider, timeoutMs, now: () => at });
  const orderId = crypto.randomUUID();
  return { payments, provider, chargeOrder, orderId, input: { orderId, amountMinor: 12_345, currency: 'USD' } };
}

describe('chargeOrder', () => {
  it('writes the payment, charges it with the order-derived key and records SUCCEEDED', async () => {
    const { payments, provider, chargeOrder, orderId, input } = setUp();
    provider.onCharge = async () => {
      // The row must exist before money can move.
      expect(await payments.findByOrderId(orderId)).toMatchObject({ status: 'PENDING' });
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
    expect(await payments.findByOrderId(orderId)).toMatchObject({ status: 'PENDING' });

    provider.onCharge = async () => ({ outcome: 'SUCCEEDED', chargeId: 'ch_late' });
    const retried = await chargeOrder(systemContext('test'), input);

    expect(retried.ok && retried.value).toMatchObject({ status: 'SUCCEEDED', providerChargeId: 'ch_late' });
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
