import { canTransition, chargeIdempotencyKey, type Payment, type PaymentStatus } from '../../domain/payment.ts';
import {
  PaymentProviderUnavailableError,
  type ChargeOutcome,
  type ChargeRequest,
  type PaymentProvider,
  type PaymentRepository,
  type RefundRequest,
} from '../ports.ts';

/**
 * {@link PaymentRepository} in memory, with the same conditional-update semantics as the SQL one
 * (a move not allowed by the domain's transition table changes nothing and returns false).
 */
export class InMemoryPaymentRepository implements PaymentRepository {
  readonly #byOrderId = new Map<string, Payment>();

  /** Stores a payment as is, in any status (to set up a crash left PENDING, an earlier refund…). */
  seed(payment: Payment): void {
    this.#byOrderId.set(payment.orderId, payment);
  }

  /** Every stored payment. */
  all(): Payment[] {
    return [...this.#byOrderId.values()];
  }

  async findByOrderIds(orderIds: readonly string[]): Promise<Payment[]> {
    return orderIds.flatMap((orderId) => this.#byOrderId.get(orderId) ?? []);
  }

  async findByOrderId(orderId: string): Promise<Payment | null> {
    return this.#byOrderId.get(orderId) ?? null;
  }

  async insertPending(payment: Payment & { readonly status: 'PENDING' }): Promise<boolean> {
    if (this.#byOrderId.has(payment.orderId) || this.all().some((p) => p.idempotencyKey === payment.idempotencyKey)) return false;
    this.#byOrderId.set(payment.orderId, payment);
    return true;
  }

  async markSucceeded(id: string, chargeId: string, at: Date): Promise<boolean> {
    return this.#move(id, 'SUCCEEDED', { providerChargeId: chargeId, updatedAt: at });
  }

  async markDeclined(id: string, code: string, message: string, at: Date): Promise<boolean> {
    return this.#move(id, 'DECLINED', { declineCode: code, declineMessage: message, updatedAt: at });
  }

  async markRefunded(id: string, refundId: string, at: Date): Promise<boolean> {
    return this.#move(id, 'REFUNDED', { providerRefundId: refundId, updatedAt: at, refundedAt: at });
  }

  #move(id: string, to: PaymentStatus, changes: Partial<Payment>): boolean {
    const current = this.all().find((p) => p.id === id);
    if (!current || !canTransition(current.status, to)) return false;
    this.#byOrderId.set(current.orderId, { ...current, ...changes, status: to });
    return true;
  }
}

/** How the fake provider answers one call; may wait on, or ignore, the signal. */
export type ChargeHandler = (request: ChargeRequest, signal: AbortSignal) => Promise<ChargeOutcome>;
export type RefundHandler = (request: RefundRequest, signal: AbortSignal) => Promise<{ readonly refundId: string }>;

/**
 * {@link PaymentProvider} that records every call with the signal it got and answers through
 * replaceable handlers (default: success with `ch_fake_<n>` / `re_fake_<n>`). Deliberately not
 * idempotent, so tests see every call the use cases make.
 */
export class FakePaymentProvider implements PaymentProvider {
  readonly chargeCalls: { readonly request: ChargeRequest; readonly signal: AbortSignal }[] = [];
  readonly refundCalls: { readonly request: RefundRequest; readonly signal: AbortSignal }[] = [];
  onCharge: ChargeHandler = async () => ({ outcome: 'SUCCEEDED', chargeId: `ch_fake_${this.chargeCalls.length}` });
  onRefund: RefundHandler = async () => ({ refundId: `re_fake_${this.refundCalls.length}` });

  charge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeOutcome> {
    this.chargeCalls.push({ request, signal });
    return this.onCharge(request, signal);
  }

  refund(request: RefundRequest, signal: AbortSignal): Promise<{ readonly refundId: string }> {
    this.refundCalls.push({ request, signal });
    return this.onRefund(request, signal);
  }
}

/** A provider call that never answers: rejects, as adapters must, once `signal` aborts. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    const fail = () => reject(new PaymentProviderUnavailableError('aborted', { cause: signal.reason }));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

/** A payment with every field set; override what the test is about. */
export function paymentFixture(overrides: Partial<Payment> = {}): Payment {
  const orderId = overrides.orderId ?? crypto.randomUUID();
  const at = new Date('2026-11-21T10:00:00Z');
  return {
    id: crypto.randomUUID(),
    orderId,
    idempotencyKey: chargeIdempotencyKey(orderId),
    amountMinor: 4_999,
    currency: 'USD',
    status: 'PENDING',
    providerChargeId: null,
    providerRefundId: null,
    declineCode: null,
    declineMessage: null,
    createdAt: at,
    updatedAt: at,
    refundedAt: null,
    ...overrides,
  };
}
