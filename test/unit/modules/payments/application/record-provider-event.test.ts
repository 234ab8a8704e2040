import { describe, expect, it } from 'vitest';
import { systemContext } from '../../../../../src/platform/op-context.ts';
import type { Payment } from '../../../../../src/modules/payments/domain/payment.ts';
import { PaymentProviderUnavailableError } from '../../../../../src/modules/payments/application/ports.ts';
import { createRecordProviderEvent, type ProviderEvent } from '../../../../../src/modules/payments/application/record-provider-event.ts';
import { FakePaymentProvider, InMemoryPaymentsUnitOfWork, paymentFixture } from '../../../../fakes/payments.ts';

const at = new Date('2026-11-21T12:00:00Z');
const later = new Date(at.getTime() + 60_000);
let eventCounter = 0;

function setUp() {
  const uow = new InMemoryPaymentsUnitOfWork();
  const provider = new FakePaymentProvider();
  const record = createRecordProviderEvent({ uow, provider, timeoutMs: 5_000, now: () => at });
  const orderId = crypto.randomUUID();
  const key = `order_${orderId}_charge`;
  const seed = (overrides: Partial<Payment> = {}): Payment => {
    const payment = paymentFixture({ orderId, ...overrides });
    uow.payments.seed(payment);
    return payment;
  };
  const event = (type: ProviderEvent['type'], overrides: Partial<ProviderEvent> = {}): ProviderEvent => ({
    id: `evt_${++eventCounter}`,
    type,
    chargeId: 'ch_1',
    idempotencyKey: key,
    ...overrides,
  });
  const stored = () => uow.payments.findByOrderId(orderId);
  return { uow, provider, record, orderId, key, seed, event, stored };
}

const op = () => systemContext('webhook');

describe('recordProviderEvent', () => {
  it.each([
    {
      name: 'charge.succeeded moves PENDING → SUCCEEDED',
      from: {},
      type: 'charge.succeeded' as const,
      extra: {},
      expected: { status: 'SUCCEEDED', providerChargeId: 'ch_1' },
    },
    {
      name: 'charge.failed moves PENDING → DECLINED with the provider reason',
      from: {},
      type: 'charge.failed' as const,
      extra: { failureCode: 'insufficient_funds', failureMessage: 'No funds.' },
      expected: { status: 'DECLINED', declineCode: 'insufficient_funds', declineMessage: 'No funds.', providerChargeId: null },
    },
    {
      name: 'charge.failed without a reason moves PENDING → DECLINED with a generic one',
      from: {},
      type: 'charge.failed' as const,
      extra: {},
      expected: { status: 'DECLINED', declineCode: 'card_declined', providerChargeId: null },
    },
    {
      name: 'charge.refunded moves SUCCEEDED → REFUNDED',
      from: { status: 'SUCCEEDED' as const, providerChargeId: 'ch_1' },
      type: 'charge.refunded' as const,
      extra: { refundId: 're_1' },
      expected: { status: 'REFUNDED', providerChargeId: 'ch_1', providerRefundId: 're_1', refundedAt: at },
    },
    {
      name: 'charge.refunded of a PENDING payment implies the charge: → REFUNDED with its charge id',
      from: {},
      type: 'charge.refunded' as const,
      extra: { refundId: 're_1' },
      expected: { status: 'REFUNDED', providerChargeId: 'ch_1', providerRefundId: 're_1', refundedAt: at },
    },
    {
      name: 'charge.refunded of a VOIDED payment records the late charge and its refund',
      from: { status: 'VOIDED' as const },
      type: 'charge.refunded' as const,
      extra: { refundId: 're_1' },
      expected: { status: 'REFUNDED', providerChargeId: 'ch_1', providerRefundId: 're_1', refundedAt: at },
    },
  ])('$name, exactly once', async ({ from, type, extra, expected }) => {
    const { uow, provider, record, orderId, seed, event, stored } = setUp();
    seed(from);
    const delivered = event(type, extra);

    const first = await record(op(), delivered);

    expect(first).toEqual({ applied: true, orderId, payment: await stored() });
    expect(await stored()).toMatchObject(expected);
    const afterFirst = await stored();

    // The provider redelivers it (at least once): nothing moves again.
    const replay = await record(op(), delivered);

    expect(replay).toEqual({ applied: false, orderId, payment: afterFirst });
    expect(await stored()).toEqual(afterFirst);
    expect(uow.events.ids()).toEqual([delivered.id]);
    expect(provider.callCount).toBe(0);
  });

  it('ignores a replayed event id even when its payload differs', async () => {
    const { record, orderId, seed, event, stored } = setUp();
    seed();
    const succeeded = event('charge.succeeded');
    await record(op(), succeeded);
    const before = await stored();

    const forgedReplay = await record(op(), { ...succeeded, type: 'charge.refunded', refundId: 're_x' });

    expect(forgedReplay).toEqual({ applied: false, orderId, payment: before });
    expect(await stored()).toEqual(before);
  });

  it('reordered: charge.refunded before charge.succeeded ends REFUNDED, and the late charge.succeeded changes nothing', async () => {
    const { provider, record, seed, event, stored } = setUp();
    seed();
    const succeeded = event('charge.succeeded');
    const refunded = event('charge.refunded', { refundId: 're_1' });

    await record(op(), refunded);
    const afterRefund = await stored();
    const late = await record(op(), succeeded);

    expect(afterRefund).toMatchObject({ status: 'REFUNDED', providerChargeId: 'ch_1', providerRefundId: 're_1' });
    expect(late.payment).toEqual(afterRefund);
    expect(await stored()).toEqual(afterRefund);
    expect(provider.callCount).toBe(0);
  });

  it.each([
    { name: 'charge.failed after SUCCEEDED', from: { status: 'SUCCEEDED' as const, providerChargeId: 'ch_1' }, type: 'charge.failed' as const },
    { name: 'charge.succeeded after DECLINED', from: { status: 'DECLINED' as const, declineCode: 'x', declineMessage: 'y' }, type: 'charge.succeeded' as const },
    { name: 'charge.refunded after DECLINED', from: { status: 'DECLINED' as const, declineCode: 'x', declineMessage: 'y' }, type: 'charge.refunded' as const },
    {
      name: 'charge.failed after REFUNDED',
      from: { status: 'REFUNDED' as const, providerChargeId: 'ch_1', providerRefundId: 're_1', refundedAt: at },
      type: 'charge.failed' as const,
    },
    {
      name: 'charge.refunded after REFUNDED',
      from: { status: 'REFUNDED' as const, providerChargeId: 'ch_1', providerRefundId: 're_1', refundedAt: at },
      type: 'charge.refunded' as const,
    },
  ])('a stale $name changes nothing and calls no one', async ({ from, type }) => {
    const { provider, record, seed, event, stored } = setUp();
    const payment = seed(from);

    await record(op(), event(type, { refundId: 're_other' }));

    expect(await stored()).toEqual(payment);
    expect(provider.callCount).toBe(0);
  });

  it('a charge.succeeded for a VOIDED payment refunds the late charge (on record first) → REFUNDED', async () => {
    const { uow, provider, record, orderId, seed, event, stored } = setUp();
    seed({ status: 'VOIDED', amountMinor: 2_500 });
    const storedWhenSent: (Payment | null)[] = [];
    provider.onRefund = async () => {
      storedWhenSent.push(await stored());
      return { refundId: 're_late' };
    };

    const result = await record(op(), event('charge.succeeded', { chargeId: 'ch_late' }));

    expect(provider.refundCalls.map((c) => c.request)).toEqual([
      { idempotencyKey: `order_${orderId}_refund`, chargeId: 'ch_late', amountMinor: 2_500, currency: 'USD' },
    ]);
    expect(storedWhenSent).toEqual([expect.objectContaining({ status: 'VOIDED', refundRequestedAt: at })]);
    expect(result).toEqual({ applied: true, orderId, payment: await stored() });
    expect(await stored()).toMatchObject({ status: 'REFUNDED', providerChargeId: 'ch_late', providerRefundId: 're_late', refundedAt: at });
    expect(uow.rollbacks).toBe(0);
  });

  it('when the refund of such a late charge fails: throws, the event stays applied and the refund stays requested for the reconciler', async () => {
    const { uow, provider, record, orderId, seed, event, stored } = setUp();
    seed({ status: 'VOIDED' });
    const outage = new PaymentProviderUnavailableError('provider down');
    provider.onRefund = async () => {
      throw outage;
    };
    const late = event('charge.succeeded', { chargeId: 'ch_late' });

    await expect(record(op(), late)).rejects.toBe(outage);

    expect(await stored()).toMatchObject({ status: 'VOIDED', refundRequestedAt: at });
    expect((await uow.payments.findUnfinishedRefunds(later, 10)).map((p) => p.orderId)).toEqual([orderId]);
    expect(await record(op(), late)).toMatchObject({ applied: false });
    expect(provider.refundCalls).toHaveLength(1);
  });

  it.each([
    { name: 'a key that is not ours', key: 'pi_someone_elses_checkout', orderId: null },
    { name: 'our key shape for an order without a payment', key: 'order_00000000-0000-4000-8000-000000000000_charge', orderId: '00000000-0000-4000-8000-000000000000' },
  ])('answers applied false for $name and changes nothing', async ({ key, orderId }) => {
    const { uow, provider, record, seed, event } = setUp();
    const payment = seed();

    const result = await record(op(), event('charge.succeeded', { idempotencyKey: key }));

    expect(result).toEqual({ applied: false, orderId, payment: null });
    expect(uow.payments.all()).toEqual([payment]);
    expect(provider.callCount).toBe(0);
  });

  it('records the event id in the same transaction as the change: a failed change lets the redelivery apply it', async () => {
    const { uow, record, seed, event, stored } = setUp();
    seed();
    const delivered = event('charge.succeeded');
    const markSucceeded = uow.payments.markSucceeded.bind(uow.payments);
    let failNext = true;
    uow.payments.markSucceeded = async (...args) => {
      if (failNext) {
        failNext = false;
        throw new Error('database connection lost');
      }
      return markSucceeded(...args);
    };

    await expect(record(op(), delivered)).rejects.toThrow('database connection lost');
    expect(uow.events.ids()).toEqual([]);
    expect(await stored()).toMatchObject({ status: 'PENDING' });

    expect(await record(op(), delivered)).toMatchObject({ applied: true });
    expect(await stored()).toMatchObject({ status: 'SUCCEEDED', providerChargeId: 'ch_1' });
  });

  it('applies concurrent deliveries of the same event once', async () => {
    const { record, seed, event, stored } = setUp();
    seed();
    const delivered = event('charge.succeeded');

    const results = await Promise.all([record(op(), delivered), record(op(), delivered), record(op(), delivered)]);

    expect(results.filter((r) => r.applied)).toHaveLength(1);
    expect(await stored()).toMatchObject({ status: 'SUCCEEDED', providerChargeId: 'ch_1' });
  });
});
