import { setTimeout as sleep } from 'node:timers/promises';
import {
  PaymentProviderUnavailableError,
  type ChargeOutcome,
  type ChargeRequest,
  type PaymentProvider,
  type ProviderCharge,
  type RefundRequest,
} from '../application/ports.ts';

/** Behaviour of the {@link SimulatedPaymentProvider}. */
export interface SimulatedPaymentProviderOptions {
  /** Delay before every answer, in ms (config `payments.simulated.latencyMs`). */
  readonly latencyMs: number;
  /** Charges strictly above this many minor units are declined with "insufficient_funds". */
  readonly declineAboveMinor: number;
}

/** A charge that took money, as recorded by the simulated provider. */
export interface SimulatedCharge {
  readonly idempotencyKey: string;
  readonly chargeId: string;
  readonly amountMinor: number;
}

/** A refund that paid money back, as recorded by the simulated provider. */
export interface SimulatedRefund {
  readonly idempotencyKey: string;
  readonly refundId: string;
  readonly chargeId: string;
  readonly amountMinor: number;
}

/**
 * An in-process stand-in for a card processor, for development, demos and tests: no network, a
 * configurable latency, and declines for amounts above a threshold so a demo can provoke one.
 * Idempotent like Stripe: a repeated key returns the first answer without moving money again, and
 * reusing a key with different parameters is refused. State lives in memory, per instance.
 */
export class SimulatedPaymentProvider implements PaymentProvider {
  readonly #latencyMs: number;
  readonly #declineAboveMinor: number;
  readonly #chargeAnswers = new Map<string, { readonly request: ChargeRequest; readonly outcome: ChargeOutcome }>();
  readonly #refundAnswers = new Map<string, SimulatedRefund>();
  readonly #charges: SimulatedCharge[] = [];
  readonly #refunds: SimulatedRefund[] = [];

  constructor(options: SimulatedPaymentProviderOptions) {
    this.#latencyMs = options.latencyMs;
    this.#declineAboveMinor = options.declineAboveMinor;
  }

  /**
   * Succeeds with a `ch_sim_…` id, or declines with "insufficient_funds" above the threshold.
   * @throws PaymentProviderUnavailableError when `signal` aborts during the latency (nothing is charged);
   * Error when the key was used before with a different amount, currency or order.
   */
  async charge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeOutcome> {
    await this.#latency(signal);
    const previous = this.#chargeAnswers.get(request.idempotencyKey);
    if (previous) {
      const { amountMinor, currency, orderId } = previous.request;
      if (amountMinor !== request.amountMinor || currency !== request.currency || orderId !== request.orderId) {
        throw new Error(`Idempotency key ${request.idempotencyKey} was already used with different parameters`);
      }
      return previous.outcome;
    }
    let outcome: ChargeOutcome;
    if (request.amountMinor > this.#declineAboveMinor) {
      outcome = { outcome: 'DECLINED', code: 'insufficient_funds', message: 'The card has insufficient funds to complete the purchase.' };
    } else {
      outcome = { outcome: 'SUCCEEDED', chargeId: `ch_sim_${randomId()}` };
      this.#charges.push({ idempotencyKey: request.idempotencyKey, chargeId: outcome.chargeId, amountMinor: request.amountMinor });
    }
    this.#chargeAnswers.set(request.idempotencyKey, { request: { ...request }, outcome });
    return outcome;
  }

  /**
   * Pays a charge back in full with a `re_sim_…` id.
   * @throws PaymentProviderUnavailableError when `signal` aborts during the latency (nothing is
   * refunded); Error for an unknown charge, an amount above the charge, a key reused for another
   * charge, or a charge already refunded under another key.
   */
  async refund(request: RefundRequest, signal: AbortSignal): Promise<{ readonly refundId: string }> {
    await this.#latency(signal);
    const previous = this.#refundAnswers.get(request.idempotencyKey);
    if (previous) {
      if (previous.chargeId !== request.chargeId || previous.amountMinor !== request.amountMinor) {
        throw new Error(`Idempotency key ${request.idempotencyKey} was already used with different parameters`);
      }
      return { refundId: previous.refundId };
    }
    const charge = this.#charges.find((c) => c.chargeId === request.chargeId);
    if (!charge) throw new Error(`No such charge: ${request.chargeId}`);
    if (request.amountMinor > charge.amountMinor) throw new Error(`Refund of ${request.amountMinor} exceeds charge ${charge.chargeId}`);
    if (this.#refunds.some((r) => r.chargeId === request.chargeId)) throw new Error(`Charge ${request.chargeId} is already refunded`);
    const refund: SimulatedRefund = {
      idempotencyKey: request.idempotencyKey,
      refundId: `re_sim_${randomId()}`,
      chargeId: request.chargeId,
      amountMinor: request.amountMinor,
    };
    this.#refunds.push(refund);
    this.#refundAnswers.set(request.idempotencyKey, refund);
    return { refundId: refund.refundId };
  }

  /** The charge made with `idempotencyKey`, if one took money (with its refund, if any). */
  async findCharge(idempotencyKey: string, signal: AbortSignal): Promise<ProviderCharge | null> {
    await this.#latency(signal);
    const charge = this.#charges.find((c) => c.idempotencyKey === idempotencyKey);
    if (!charge) return null;
    const request = this.#chargeAnswers.get(idempotencyKey)!.request;
    const refund = this.#refunds.find((r) => r.chargeId === charge.chargeId);
    return {
      chargeId: charge.chargeId,
      amountMinor: charge.amountMinor,
      currency: request.currency,
      status: refund ? 'REFUNDED' : 'SUCCEEDED',
      ...(refund ? { refundId: refund.refundId } : {}),
    };
  }

  /** Every charge that took money, oldest first (declines and replays add none). */
  charges(): readonly SimulatedCharge[] {
    return [...this.#charges];
  }

  /** Every refund that paid money back, oldest first (replays add none). */
  refunds(): readonly SimulatedRefund[] {
    return [...this.#refunds];
  }

  async #latency(signal: AbortSignal): Promise<void> {
    try {
      await sleep(this.#latencyMs, undefined, { signal });
    } catch (error) {
      if (!signal.aborted) throw error;
      const timedOut = signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError';
      throw new PaymentProviderUnavailableError(
        timedOut ? 'The payment provider did not answer in time' : 'The payment provider call was aborted',
        { cause: signal.reason },
      );
    }
  }
}

const randomId = (): string => crypto.randomUUID().replaceAll('-', '').slice(0, 24);
