import { canTransition, type Payment, type PaymentStatus } from '../../src/modules/payments/domain/payment.ts';
import { newPendingPayment } from '../../src/modules/payments/application/charge-order.ts';
import {
  PaymentProviderUnavailableError,
  type ChargeOutcome,
  type ChargeRequest,
  type PaymentProvider,
  type PaymentRepository,
  type PaymentsUnitOfWork,
  type ProviderCharge,
  type ProviderEventLog,
  type RefundRequest,
} from '../../src/modules/payments/application/ports.ts';

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

  /** A copy of everything stored (payments are immutable values), for {@link restore}. */
  snapshot(): ReadonlyMap<string, Payment> {
    return new Map(this.#byOrderId);
  }

  /** Puts back what {@link snapshot} took (a rolled-back transaction). */
  restore(snapshot: ReadonlyMap<string, Payment>): void {
    this.#byOrderId.clear();
    for (const [orderId, payment] of snapshot) this.#byOrderId.set(orderId, payment);
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

  async markSucceeded(id: string, chargeId: string, at: Date): Promise<Payment | undefined> {
    return this.#move(id, 'SUCCEEDED', { providerChargeId: chargeId, updatedAt: at }) ? this.all().find((p) => p.id === id) : undefined;
  }

  async markDeclined(id: string, code: string, message: string, at: Date): Promise<boolean> {
    return this.#move(id, 'DECLINED', { declineCode: code, declineMessage: message, updatedAt: at });
  }

  async markVoided(id: string, at: Date): Promise<boolean> {
    return this.#move(id, 'VOIDED', { updatedAt: at });
  }

  async markRefunded(id: string, refundId: string, at: Date, chargeId?: string): Promise<boolean> {
    const current = this.all().find((p) => p.id === id);
    // Like the SQL one: a charge id means "a late charge of a VOIDED payment", otherwise from SUCCEEDED.
    if (!current || current.status !== (chargeId === undefined ? 'SUCCEEDED' : 'VOIDED')) return false;
    return this.#move(id, 'REFUNDED', { providerRefundId: refundId, updatedAt: at, refundedAt: at, ...(chargeId ? { providerChargeId: chargeId } : {}) });
  }

  async recordAttempt(id: string, at: Date): Promise<void> {
    this.#patch(id, (p) => ({ attemptCount: p.attemptCount + 1, lastAttemptAt: at, updatedAt: at }));
  }

  async recordAttemptError(id: string, message: string): Promise<void> {
    // Like the SQL one: the first 1,000 characters.
    this.#patch(id, () => ({ lastError: message.slice(0, 1_000) }));
  }

  async requestRefund(id: string, at: Date): Promise<void> {
    this.#patch(id, (p) => (p.refundRequestedAt ? {} : { refundRequestedAt: at }));
  }

  async findStalePending(before: Date, limit: number): Promise<Payment[]> {
    return this.all()
      .filter((p) => p.status === 'PENDING' && p.updatedAt < before)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .slice(0, limit);
  }

  async findUnfinishedRefunds(before: Date, limit: number): Promise<Payment[]> {
    return this.all()
      .filter((p) => (p.status === 'SUCCEEDED' || p.status === 'VOIDED') && p.refundRequestedAt !== null && p.refundRequestedAt < before)
      .sort((a, b) => a.refundRequestedAt!.getTime() - b.refundRequestedAt!.getTime())
      .slice(0, limit);
  }

  #patch(id: string, change: (payment: Payment) => Partial<Payment>): void {
    const current = this.all().find((p) => p.id === id);
    if (current) this.#byOrderId.set(current.orderId, { ...current, ...change(current) });
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

  readonly findChargeCalls: { readonly idempotencyKey: string; readonly signal: AbortSignal }[] = [];
  /** Charges the provider "holds", by idempotency key (for findCharge). */
  readonly held = new Map<string, ProviderCharge>();
  /** How findCharge answers; default: what `held` has for the key, else null. */
  onFindCharge: (idempotencyKey: string, signal: AbortSignal) => Promise<ProviderCharge | null> = async (idempotencyKey) =>
    this.held.get(idempotencyKey) ?? null;
  findCharge(idempotencyKey: string, signal: AbortSignal): Promise<ProviderCharge | null> {
    this.findChargeCalls.push({ idempotencyKey, signal });
    return this.onFindCharge(idempotencyKey, signal);
  }

  /** Every provider call of any kind so far. */
  get callCount(): number {
    return this.chargeCalls.length + this.refundCalls.length + this.findChargeCalls.length;
  }
}

/** {@link ProviderEventLog} in memory: the ids of the events remembered, with what was said of them. */
export class InMemoryProviderEventLog implements ProviderEventLog {
  readonly #events = new Map<string, { readonly type: string; readonly orderId: string | null; readonly at: Date }>();

  async remember(eventId: string, type: string, orderId: string | null, at: Date): Promise<boolean> {
    if (this.#events.has(eventId)) return false;
    this.#events.set(eventId, { type, orderId, at });
    return true;
  }

  /** Event ids remembered, in arrival order. */
  ids(): string[] {
    return [...this.#events.keys()];
  }

  snapshot(): ReadonlyMap<string, { readonly type: string; readonly orderId: string | null; readonly at: Date }> {
    return new Map(this.#events);
  }

  restore(snapshot: ReadonlyMap<string, { readonly type: string; readonly orderId: string | null; readonly at: Date }>): void {
    this.#events.clear();
    for (const [id, event] of snapshot) this.#events.set(id, event);
  }
}

/**
 * {@link PaymentsUnitOfWork} over one in-memory repository and event log: transactions run one at
 * a time; one that throws puts both back as they were before it (rolled back).
 */
export class InMemoryPaymentsUnitOfWork implements PaymentsUnitOfWork {
  readonly payments: InMemoryPaymentRepository;
  readonly events: InMemoryProviderEventLog;
  #queue: Promise<void> = Promise.resolve();
  commits = 0;
  rollbacks = 0;

  constructor(payments = new InMemoryPaymentRepository(), events = new InMemoryProviderEventLog()) {
    this.payments = payments;
    this.events = events;
  }

  async transaction<T>(work: (tx: { payments: PaymentRepository; events: ProviderEventLog }) => Promise<T>): Promise<T> {
    const previous = this.#queue;
    let release!: () => void;
    this.#queue = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    const payments = this.payments.snapshot();
    const events = this.events.snapshot();
    try {
      const result = await work({ payments: this.payments, events: this.events });
      this.commits += 1;
      return result;
    } catch (error) {
      this.payments.restore(payments);
      this.events.restore(events);
      this.rollbacks += 1;
      throw error;
    } finally {
      release();
    }
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
  return { ...newPendingPayment({ orderId, amountMinor: 4_999, currency: 'USD' }, new Date('2026-11-21T10:00:00Z')), ...overrides };
}
