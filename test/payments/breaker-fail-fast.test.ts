import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpPaymentProvider } from '../../src/modules/payments/module.ts';
import { PaymentProviderUnavailableError } from '../../src/modules/payments/public.ts';
import { eventually } from '../support/eventually.ts';
import { startFakeProvider, type FakeProvider } from './fake-provider.ts';
import { faultRunPaymentAdapter } from './support.ts';

/**
 * Measured (vitest project `measured`, run alone after the other projects): how fast a payment
 * call fails while the circuit breaker is open.
 *
 * Threshold: each of 20 calls through the open breaker fails within 50 ms (the slowest of them),
 * without a request reaching the provider. A call that still went out would wait for the
 * provider's 250 ms attempt timeout (three attempts, with retry delays), so 50 ms separates
 * "refused at once" from "tried" with a wide margin on a loaded machine; typical readings are
 * well under 1 ms (the median is logged). Moved here from fault-run.test.ts (issue 13).
 */

const FAIL_FAST_MS = 50;
const SECRET = 'sk_test_breaker';

let provider: FakeProvider;
let adapter: HttpPaymentProvider;

beforeAll(async () => {
  provider = await startFakeProvider({ secretKey: SECRET });
  // The settings of the fault run (fault-run.test.ts), as the app builds the adapter from PAYMENT_*.
  adapter = faultRunPaymentAdapter(provider.url, SECRET);
});
afterAll(() => provider?.stop());

describe('the payment circuit breaker', () => {
  it(`fails fast through the open circuit breaker while the provider is down (under ${FAIL_FAST_MS} ms a call)`, async () => {
    provider.chooseFault = () => 'timeout';
    // Hanging requests until the breaker opens.
    for (let i = 0; i < 20 && adapter.breakerState() !== 'open'; i += 1) {
      await adapter.charge({ idempotencyKey: `down-${i}`, amountMinor: 100, currency: 'USD', orderId: crypto.randomUUID() }, AbortSignal.timeout(5_000)).catch(() => undefined);
    }
    expect(adapter.breakerState()).toBe('open');
    const requestsBefore = provider.requests.charges;
    const durations: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const started = performance.now();
      const failure = await adapter.charge({ idempotencyKey: `fast-${i}`, amountMinor: 100, currency: 'USD', orderId: crypto.randomUUID() }, AbortSignal.timeout(5_000)).catch((error: unknown) => error);
      durations.push(performance.now() - started);
      expect(failure).toBeInstanceOf(PaymentProviderUnavailableError);
    }
    durations.sort((a, b) => a - b);
    console.info(`breaker open: median ${durations[10]!.toFixed(2)} ms, max ${durations.at(-1)!.toFixed(2)} ms over 20 calls`);
    expect(provider.requests.charges).toBe(requestsBefore);
    expect(durations.at(-1)!).toBeLessThan(FAIL_FAST_MS);

    // The provider comes back: calls keep failing fast until the half-open delay has passed, then
    // exactly one probe goes through and closes the breaker.
    provider.chooseFault = () => undefined;
    const probe = await eventually(() => adapter.charge({ idempotencyKey: 'probe', amountMinor: 100, currency: 'USD', orderId: crypto.randomUUID() }, AbortSignal.timeout(5_000)), {
      what: 'a half-open probe to go through',
    });
    expect(probe.outcome).toBe('SUCCEEDED');
    expect(provider.requests.charges).toBe(requestsBefore + 1);
    expect(adapter.breakerState()).toBe('closed');
  }, 60_000);
});
