import { describe, expect, it } from 'vitest';
import { PaymentProviderUnavailableError, type ChargeRequest } from '../application/ports.ts';
import { SimulatedPaymentProvider } from './simulated-payment-provider.ts';
import { createPaymentProvider } from './provider-factory.ts';
import { loadConfig } from '../../../config.ts';
import { createLogger } from '../../../platform/logger.ts';

const live = () => new AbortController().signal;
const provider = () => new SimulatedPaymentProvider({ latencyMs: 1, declineAboveMinor: 100_000 });
const request = (overrides: Partial<ChargeRequest> = {}): ChargeRequest => {
  const orderId = overrides.orderId ?? crypto.randomUUID();
  return { idempotencyKey: `order_${orderId}_charge`, amountMinor: 5_000, currency: 'USD', orderId, ...overrides };
};

describe('SimulatedPaymentProvider.charge', () => {
  it.each([
    [99_999, 'SUCCEEDED'],
    [100_000, 'SUCCEEDED'],
    [100_001, 'DECLINED'],
  ])('answers a charge of %i minor units with the threshold at 100000: %s', async (amountMinor, outcome) => {
    const simulated = provider();
    const charge = request({ amountMinor });

    const answer = await simulated.charge(charge, live());

    expect(answer.outcome).toBe(outcome);
    if (answer.outcome === 'SUCCEEDED') {
      expect(answer.chargeId).toMatch(/^ch_sim_\w+$/);
      expect(simulated.charges()).toEqual([{ idempotencyKey: charge.idempotencyKey, chargeId: answer.chargeId, amountMinor }]);
    } else {
      expect(answer).toMatchObject({ code: 'insufficient_funds', message: expect.any(String) });
      expect(simulated.charges()).toEqual([]);
    }
  });

  it('returns the first answer for a repeated idempotency key without charging again', async () => {
    const simulated = provider();
    const charge = request();

    const first = await simulated.charge(charge, live());
    const second = await simulated.charge({ ...charge }, live());

    expect(second).toEqual(first);
    expect(simulated.charges()).toHaveLength(1);
  });

  it('charges concurrent calls with the same key once', async () => {
    const simulated = provider();
    const charge = request();

    const [a, b] = await Promise.all([simulated.charge(charge, live()), simulated.charge(charge, live())]);

    expect(a).toEqual(b);
    expect(simulated.charges()).toHaveLength(1);
  });

  it('replays a decline for a repeated key', async () => {
    const simulated = provider();
    const charge = request({ amountMinor: 200_000 });

    const first = await simulated.charge(charge, live());

    expect(await simulated.charge(charge, live())).toEqual(first);
    expect(first.outcome).toBe('DECLINED');
  });

  it('charges different keys separately', async () => {
    const simulated = provider();

    const a = await simulated.charge(request(), live());
    const b = await simulated.charge(request(), live());

    expect(a).not.toEqual(b);
    expect(simulated.charges()).toHaveLength(2);
  });

  it('refuses a key reused with a different amount', async () => {
    const simulated = provider();
    const charge = request();
    await simulated.charge(charge, live());

    await expect(simulated.charge({ ...charge, amountMinor: 5_001 }, live())).rejects.toThrow(/different parameters/);
    expect(simulated.charges()).toHaveLength(1);
  });

  it('rejects with PaymentProviderUnavailableError wrapping the reason when aborted while waiting, charging nothing', async () => {
    const simulated = new SimulatedPaymentProvider({ latencyMs: 60_000, declineAboveMinor: 100_000 });
    const controller = new AbortController();
    const reason = new Error('stop');

    const pending = simulated.charge(request(), controller.signal);
    controller.abort(reason);

    const error = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PaymentProviderUnavailableError);
    expect((error as Error).cause).toBe(reason);
    expect(simulated.charges()).toEqual([]);
  });

  it('rejects at once for an already aborted signal, also without latency', async () => {
    const simulated = new SimulatedPaymentProvider({ latencyMs: 0, declineAboveMinor: 100_000 });

    await expect(simulated.charge(request(), AbortSignal.abort())).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    expect(simulated.charges()).toEqual([]);
  });

  it('reports a timeout as the provider not answering in time', async () => {
    const simulated = new SimulatedPaymentProvider({ latencyMs: 60_000, declineAboveMinor: 100_000 });

    await expect(simulated.charge(request(), AbortSignal.timeout(1))).rejects.toThrow('did not answer in time');
  });
});

describe('SimulatedPaymentProvider.refund', () => {
  async function charged() {
    const simulated = provider();
    const charge = request();
    const answer = await simulated.charge(charge, live());
    if (answer.outcome !== 'SUCCEEDED') throw new Error('expected a charge');
    const refund = { idempotencyKey: `order_${charge.orderId}_refund`, chargeId: answer.chargeId, amountMinor: charge.amountMinor, currency: 'USD' };
    return { simulated, refund };
  }

  it('refunds a charge once per idempotency key', async () => {
    const { simulated, refund } = await charged();

    const first = await simulated.refund(refund, live());
    const second = await simulated.refund(refund, live());

    expect(first.refundId).toMatch(/^re_sim_\w+$/);
    expect(second).toEqual(first);
    expect(simulated.refunds()).toEqual([
      { idempotencyKey: refund.idempotencyKey, refundId: first.refundId, chargeId: refund.chargeId, amountMinor: refund.amountMinor },
    ]);
  });

  it('refuses to refund an unknown charge or one already refunded under another key', async () => {
    const { simulated, refund } = await charged();
    await simulated.refund(refund, live());

    await expect(simulated.refund({ ...refund, idempotencyKey: 'other', chargeId: 'ch_nope' }, live())).rejects.toThrow(/No such charge/);
    await expect(simulated.refund({ ...refund, idempotencyKey: 'other' }, live())).rejects.toThrow(/already refunded/);
    expect(simulated.refunds()).toHaveLength(1);
  });

  it('refunds nothing when aborted', async () => {
    const { simulated, refund } = await charged();

    await expect(simulated.refund(refund, AbortSignal.abort())).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    expect(simulated.refunds()).toEqual([]);
  });
});

describe('createPaymentProvider', () => {
  const config = (declineAbove: string) => {
    const base = loadConfig({}).payments;
    return { ...base, simulated: { latencyMs: 0, declineAbove } };
  };

  it('declines strictly above the configured decimal amount of the store currency', async () => {
    const simulated = createPaymentProvider(config('10.00'), 'USD', createLogger('silent'));

    expect((await simulated.charge(request({ amountMinor: 1_000 }), live())).outcome).toBe('SUCCEEDED');
    expect((await simulated.charge(request({ amountMinor: 1_001 }), live())).outcome).toBe('DECLINED');
  });

  it('uses the currency exponent: "10" JPY is 10 minor units', async () => {
    const simulated = createPaymentProvider(config('10'), 'JPY', createLogger('silent'));

    expect((await simulated.charge(request({ amountMinor: 11, currency: 'JPY' }), live())).outcome).toBe('DECLINED');
  });

  it.each(['1.234', 'ten', '-5'])('throws a clear error for the unparsable threshold %s', (declineAbove) => {
    expect(() => createPaymentProvider(config(declineAbove), 'USD', createLogger('silent'))).toThrow(/PAYMENT_SIMULATED_DECLINE_ABOVE/);
  });
});
