import type { Config } from '../../../config.ts';
import type { Logger } from '../../../platform/logger.ts';
import { parseMinor } from '../../../platform/money.ts';
import type { PaymentProvider } from '../application/ports.ts';
import { HttpPaymentProvider } from './http-payment-provider.ts';
import { SimulatedPaymentProvider } from './simulated-payment-provider.ts';

/**
 * Builds the configured payment provider: the HTTP adapter (PAYMENT_PROVIDER=http), or the
 * in-process simulation whose decline threshold `declineAbove` is a decimal amount in the store
 * `currency` ("1000.00").
 * @throws Error when `declineAbove` is not a valid amount of `currency`, or the HTTP settings are missing.
 */
export function createPaymentProvider(config: Config['payments'], currency: string, logger: Logger): PaymentProvider & { breakerState?: () => string } {
  if (config.provider === 'http') {
    if (!config.http.url || !config.http.secretKey) throw new Error('PAYMENT_PROVIDER=http needs PAYMENT_PROVIDER_URL and PAYMENT_PROVIDER_SECRET_KEY');
    return new HttpPaymentProvider({
      baseUrl: config.http.url,
      secretKey: config.http.secretKey,
      attemptTimeoutMs: config.timeoutMs,
      maxAttempts: config.retry.maxAttempts,
      retryBaseDelayMs: config.retry.baseDelayMs,
      retryMaxDelayMs: config.retry.maxDelayMs,
      breakerThreshold: config.breaker.threshold,
      breakerHalfOpenAfterMs: config.breaker.halfOpenAfterMs,
      bulkheadLimit: config.bulkhead.limit,
      bulkheadQueue: config.bulkhead.queue,
      logger: logger.child({ component: 'payment-provider' }),
    });
  }
  const declineAboveMinor = parseMinor(config.simulated.declineAbove, currency);
  if (declineAboveMinor === undefined) {
    throw new Error(`PAYMENT_SIMULATED_DECLINE_ABOVE "${config.simulated.declineAbove}" is not a valid ${currency} amount (e.g. 1000.00)`);
  }
  return new SimulatedPaymentProvider({ latencyMs: config.simulated.latencyMs, declineAboveMinor });
}
