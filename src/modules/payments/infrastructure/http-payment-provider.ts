import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
} from 'cockatiel';
import { z } from 'zod';
import type { Logger } from '../../../platform/logger.ts';
import {
  PaymentProviderUnavailableError,
  type ChargeOutcome,
  type ChargeRequest,
  type PaymentProvider,
  type ProviderCharge,
  type RefundRequest,
} from '../application/ports.ts';

/** Settings of the HTTP adapter; every duration in ms. Defaults in config.ts. */
export interface HttpPaymentProviderOptions {
  /** Base URL of the provider's API, e.g. `https://payments.example/`; paths are appended. */
  readonly baseUrl: string;
  /** Secret API key, sent as `Authorization: Bearer <key>`. */
  readonly secretKey: string;
  /** Timeout of one HTTP attempt (the seeds: 5 s). */
  readonly attemptTimeoutMs: number;
  /** Attempts per call, first included. */
  readonly maxAttempts: number;
  /** Backoff before retry n is uniformly random in [0, min(retryMaxDelayMs, retryBaseDelayMs × 2^(n−1))] (full jitter). */
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** Consecutive failed attempts that open the circuit breaker. */
  readonly breakerThreshold: number;
  /** How long the breaker stays open before one half-open probe. */
  readonly breakerHalfOpenAfterMs: number;
  /** Calls in flight at once, and calls allowed to wait for a slot. */
  readonly bulkheadLimit: number;
  readonly bulkheadQueue: number;
  readonly logger: Logger;
}

/** An HTTP answer that is not a success; `retryAfterMs` from a Retry-After header. */
class ProviderHttpError extends Error {
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  constructor(status: number, body: string, retryAfterMs: number | undefined) {
    super(`payment provider answered ${status}: ${body.slice(0, 300)}`);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The caller's own signal aborted the call (not a provider failure). */
class CallerAbortedError extends Error {}

/** Retry only what may succeed on a second try: transport failures, timeouts, 409 (same key in flight), 429, 5xx. */
function isRetryable(error: unknown): boolean {
  if (error instanceof CallerAbortedError) return false;
  if (error instanceof ProviderHttpError) return error.status === 409 || error.status === 429 || error.status >= 500;
  if (error instanceof BrokenCircuitError || error instanceof BulkheadRejectedError) return false;
  return isTransportFailure(error);
}

/** Failures that say the provider is unwell (they count towards opening the breaker); 4xx answers do not. */
function isProviderFailure(error: unknown): boolean {
  if (error instanceof CallerAbortedError) return false;
  if (error instanceof ProviderHttpError) return error.status === 429 || error.status >= 500;
  return isTransportFailure(error);
}

function isTransportFailure(error: unknown): boolean {
  // fetch rejects with TypeError for network errors (refused, reset, DNS) and with the signal's
  // reason (a TimeoutError DOMException for the per-attempt timeout).
  return error instanceof TypeError || (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError'));
}

/** Retry-After as seconds or an HTTP date → ms (RFC 9110 §10.2.3); undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1_000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

const chargeSchema = z.object({
  id: z.string().min(1),
  amount: z.number().int().positive(),
  currency: z.string(),
  status: z.enum(['succeeded', 'refunded']),
  refund: z.string().nullish(),
});
const declineSchema = z.object({
  error: z.object({ type: z.literal('card_error'), code: z.string(), decline_code: z.string().nullish(), message: z.string() }),
});
const listSchema = z.object({ data: z.array(chargeSchema) });
const refundSchema = z.object({ id: z.string().min(1), charge: z.string(), status: z.literal('succeeded') });

/**
 * {@link PaymentProvider} over a Stripe-shaped REST API (contract: docs/payment-provider.md).
 * Every call runs through cockatiel policies: a bulkhead bounding concurrent calls, retries of
 * retryable failures with capped exponential backoff and full jitter (honouring Retry-After), and
 * a circuit breaker that fails fast while the provider is down and lets one half-open probe
 * through after `breakerHalfOpenAfterMs`. Each attempt has its own timeout through AbortSignal.
 * Retrying a charge is safe: every attempt carries the same Idempotency-Key.
 */
export class HttpPaymentProvider implements PaymentProvider {
  readonly #options: HttpPaymentProviderOptions;
  readonly #policy;
  readonly #breaker;

  constructor(options: HttpPaymentProviderOptions) {
    this.#options = options;
    const { logger } = options;
    const retryPolicy = retry(handleWhen(isRetryable), {
      maxAttempts: options.maxAttempts - 1,
      backoff: new DelegateBackoff<{ attempt: number; result: { error?: unknown } | { value: unknown } }>((context) => {
        const error = 'error' in context.result ? context.result.error : undefined;
        const hinted = error instanceof ProviderHttpError ? error.retryAfterMs : undefined;
        if (hinted !== undefined) return Math.min(hinted, options.retryMaxDelayMs * 4);
        return Math.random() * Math.min(options.retryMaxDelayMs, options.retryBaseDelayMs * 2 ** (context.attempt - 1));
      }),
    });
    retryPolicy.onRetry(({ attempt, delay, ...reason }) =>
      logger.debug({ attempt, delayMs: Math.round(delay), err: 'error' in reason ? reason.error : undefined }, 'retrying payment provider call'),
    );
    this.#breaker = circuitBreaker(handleWhen(isProviderFailure), {
      halfOpenAfter: options.breakerHalfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.breakerThreshold),
    });
    this.#breaker.onStateChange((state) =>
      logger.warn({ breaker: 'payment-provider', state: CircuitState[state] }, `payment provider circuit breaker ${CircuitState[state].toLowerCase()}`),
    );
    this.#policy = wrap(bulkhead(options.bulkheadLimit, options.bulkheadQueue), retryPolicy, this.#breaker);
  }

  /** The circuit breaker's state, for metrics and readiness: 'closed', 'open', 'half-open' or 'isolated'. */
  breakerState(): 'closed' | 'open' | 'half-open' | 'isolated' {
    const names = { [CircuitState.Closed]: 'closed', [CircuitState.Open]: 'open', [CircuitState.HalfOpen]: 'half-open', [CircuitState.Isolated]: 'isolated' } as const;
    return names[this.#breaker.state];
  }

  async charge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeOutcome> {
    const response = await this.#call(
      'POST',
      'v1/charges',
      { amount: request.amountMinor, currency: request.currency.toLowerCase(), metadata: { order_id: request.orderId } },
      request.idempotencyKey,
      signal,
      [402],
    );
    if (response.status === 402) {
      const decline = declineSchema.parse(response.body).error;
      return { outcome: 'DECLINED', code: decline.decline_code ?? decline.code, message: decline.message };
    }
    const charge = chargeSchema.parse(response.body);
    return { outcome: 'SUCCEEDED', chargeId: charge.id };
  }

  async refund(request: RefundRequest, signal: AbortSignal): Promise<{ readonly refundId: string }> {
    const response = await this.#call('POST', 'v1/refunds', { charge: request.chargeId, amount: request.amountMinor }, request.idempotencyKey, signal, []);
    return { refundId: refundSchema.parse(response.body).id };
  }

  async findCharge(idempotencyKey: string, signal: AbortSignal): Promise<ProviderCharge | null> {
    const response = await this.#call('GET', `v1/charges?idempotency_key=${encodeURIComponent(idempotencyKey)}`, undefined, undefined, signal, []);
    const [charge] = listSchema.parse(response.body).data;
    if (!charge) return null;
    return {
      chargeId: charge.id,
      amountMinor: charge.amount,
      currency: charge.currency.toUpperCase(),
      status: charge.status === 'refunded' ? 'REFUNDED' : 'SUCCEEDED',
      ...(charge.refund ? { refundId: charge.refund } : {}),
    };
  }

  /**
   * One logical call: the policies around as many HTTP attempts as they allow.
   * @returns status and parsed JSON body of a 2xx answer or of an `expected` status.
   * @throws PaymentProviderUnavailableError when the outcome is unknown (transport failure, timeout,
   * open breaker, full bulkhead, retries exhausted); Error for any other answer (a bug or a
   * misconfiguration, such as 400 or 401, which no retry fixes).
   */
  async #call(method: 'GET' | 'POST', path: string, body: unknown, idempotencyKey: string | undefined, signal: AbortSignal, expected: readonly number[]) {
    const url = new URL(path, this.#options.baseUrl.endsWith('/') ? this.#options.baseUrl : `${this.#options.baseUrl}/`);
    try {
      return await this.#policy.execute(async ({ signal: policySignal }) => {
        const attemptSignal = AbortSignal.any([policySignal, AbortSignal.timeout(this.#options.attemptTimeoutMs)]);
        try {
          return await this.#attempt(url, method, body, idempotencyKey, attemptSignal, expected);
        } catch (error) {
          // The caller gave up: not the provider's fault, so it must neither count towards the
          // breaker nor be retried.
          if (signal.aborted) throw new CallerAbortedError('aborted by the caller', { cause: error });
          throw error;
        }
      }, signal);
    } catch (error) {
      if (error instanceof ProviderHttpError && !isRetryable(error)) throw error;
      if (error instanceof ProviderHttpError || isTransportFailure(error) || error instanceof BrokenCircuitError || error instanceof BulkheadRejectedError) {
        throw new PaymentProviderUnavailableError(`payment provider unavailable: ${(error as Error).message}`, { cause: error });
      }
      if (signal.aborted) throw new PaymentProviderUnavailableError('payment provider call aborted', { cause: signal.reason });
      throw error;
    }
  }

  /** One HTTP attempt. */
  async #attempt(url: URL, method: 'GET' | 'POST', body: unknown, idempotencyKey: string | undefined, attemptSignal: AbortSignal, expected: readonly number[]) {
    const response = await fetch(url, {
      method,
      signal: attemptSignal,
      headers: {
        authorization: `Bearer ${this.#options.secretKey}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (!response.ok && !expected.includes(response.status)) {
      throw new ProviderHttpError(response.status, text, retryAfterMs(response.headers.get('retry-after')));
    }
    return { status: response.status, body: JSON.parse(text) as unknown };
  }
}

/** Builds the HTTP adapter. */
export function createHttpPaymentProvider(options: HttpPaymentProviderOptions): HttpPaymentProvider {
  return new HttpPaymentProvider(options);
}
