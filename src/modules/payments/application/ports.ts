import type { SqlFragment } from '../../../platform/db/sql-fragment.ts';
import type { Payment } from '../domain/payment.ts';

/** A charge as sent to the provider. Amounts are integer minor units of `currency`. */
export interface ChargeRequest {
  readonly idempotencyKey: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly orderId: string;
}

/** What the provider answered to a charge: money was taken, or the charge was refused. */
export type ChargeOutcome =
  | { readonly outcome: 'SUCCEEDED'; readonly chargeId: string }
  | { readonly outcome: 'DECLINED'; readonly code: string; readonly message: string };

/** A full refund of a charge as sent to the provider. Amounts are integer minor units of `currency`. */
export interface RefundRequest {
  readonly idempotencyKey: string;
  readonly chargeId: string;
  readonly amountMinor: number;
  readonly currency: string;
}

/** A charge the provider holds, as found by its idempotency key. */
export interface ProviderCharge {
  readonly chargeId: string;
  readonly amountMinor: number;
  readonly currency: string;
  /** REFUNDED when the provider has refunded it in full. */
  readonly status: 'SUCCEEDED' | 'REFUNDED';
  /** The refund's id, when REFUNDED. */
  readonly refundId?: string;
}

/**
 * The external payment provider. Both calls are idempotent by `idempotencyKey` (as Stripe's are):
 * repeating a key returns the first answer and moves no money again.
 *
 * Adapters must honour `signal` (the caller's cancellation and the per-call timeout) and throw
 * {@link PaymentProviderUnavailableError} for transport failures, timeouts and aborts, i.e. whenever
 * the outcome is unknown. A decline is an answer, not an error.
 */
export interface PaymentProvider {
  charge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeOutcome>;
  refund(request: RefundRequest, signal: AbortSignal): Promise<{ readonly refundId: string }>;
  /**
   * Looks a charge up by the idempotency key it was created with (how the reconciler learns the
   * outcome of a call whose answer was lost). @returns null when the provider holds no charge for it.
   */
  findCharge(idempotencyKey: string, signal: AbortSignal): Promise<ProviderCharge | null>;
}

/**
 * The provider could not be reached or did not answer in time, so whether money moved is unknown.
 * Not an AppError: no caller expects it as a result; it unwinds the operation, and the payment stays
 * as it was (a PENDING charge is settled by a later call with the same idempotency key).
 * `cause` holds the underlying failure (a network error, the abort reason).
 */
export class PaymentProviderUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PaymentProviderUnavailableError';
  }
}

/**
 * Persistence of payments. The `mark…` updates are conditional on the current status (see
 * PAYMENT_TRANSITIONS in the domain) so concurrent settlements cannot overwrite each other;
 * each returns false when the payment was not in the required status (or does not exist).
 */
export interface PaymentRepository {
  /** @returns the payments of those orders, in no particular order. */
  findByOrderIds(orderIds: readonly string[]): Promise<Payment[]>;
  findByOrderId(orderId: string): Promise<Payment | null>;
  /**
   * Stores a new PENDING payment; must not poison a surrounding transaction on conflict.
   * @returns false when a payment for that order (or with that idempotency key) already exists.
   */
  insertPending(payment: Payment & { readonly status: 'PENDING' }): Promise<boolean>;
  /**
   * PENDING → SUCCEEDED with the provider's charge id; `at` becomes `updatedAt`.
   * @returns the payment as stored now, or undefined when it was no longer PENDING (nothing changed).
   */
  markSucceeded(id: string, chargeId: string, at: Date): Promise<Payment | undefined>;
  /** PENDING → DECLINED with the provider's reason; `at` becomes `updatedAt`. */
  markDeclined(id: string, code: string, message: string, at: Date): Promise<boolean>;
  /** PENDING → VOIDED: the provider confirmed it holds no charge for the payment's key. */
  markVoided(id: string, at: Date): Promise<boolean>;
  /**
   * SUCCEEDED → REFUNDED, or VOIDED → REFUNDED for a charge that surfaced late (then `chargeId`
   * is recorded too); `at` becomes `updatedAt` and `refundedAt`.
   */
  markRefunded(id: string, refundId: string, at: Date, chargeId?: string): Promise<boolean>;
  /** Counts a provider call before it is made (the attempt is on record even if the process dies). */
  recordAttempt(id: string, at: Date): Promise<void>;
  /** Notes why the last provider call failed. */
  recordAttemptError(id: string, message: string): Promise<void>;
  /** Notes that a refund is wanted before it is sent; a no-op if one was requested already. */
  requestRefund(id: string, at: Date): Promise<void>;
  /** PENDING payments last touched before `before`, oldest first: outcomes the reconciler must learn. */
  findStalePending(before: Date, limit: number): Promise<Payment[]>;
  /** SUCCEEDED (or VOIDED) payments whose refund was requested before `before` and has not happened. */
  findUnfinishedRefunds(before: Date, limit: number): Promise<Payment[]>;
}

/** Provider webhook event ids already applied, so a redelivered event changes nothing. */
export interface ProviderEventLog {
  /** Records the event id. @returns false when it was recorded before (a replay). */
  remember(eventId: string, type: string, orderId: string | null, at: Date): Promise<boolean>;
}

/** Runs work in one database transaction: committed when it returns, rolled back when it throws. */
export interface PaymentsUnitOfWork {
  transaction<T>(work: (tx: { payments: PaymentRepository; events: ProviderEventLog }) => Promise<T>): Promise<T>;
}

/**
 * Payment writes as SQL another module embeds in one statement of its own (a data-modifying CTE),
 * so the payment and that module's rows change in one round trip and one transaction: the orders
 * module writes an order together with its PENDING payment, and records the provider's answer
 * together with the order's status change (issue 12). Built by the payments module on its table.
 */
export interface PaymentStatements {
  /**
   * Inserts the order's PENDING payment (idempotency key derived from the order id, amount in
   * integer minor units of `currency`) with its first attempt counted at `at`: committed, it puts
   * the charge on record before the provider is called (ADR 7). Written only if the CTE named
   * `onlyIf` of the embedding statement returned a row (the order's own insert, which writes
   * nothing for a key already used). Returns no rows.
   */
  insertPending(input: { readonly orderId: string; readonly amountMinor: number; readonly currency: string }, at: Date, onlyIf: string): SqlFragment;
  /**
   * Records the provider's answer on the order's payment if it is still PENDING (SUCCEEDED with
   * the charge id, or DECLINED with the reason); `at` becomes `updatedAt`. Returns one row when it
   * did, none when the payment had moved on (settled by a webhook, or VOIDED by the reconciler).
   */
  recordAnswer(orderId: string, answer: ChargeOutcome, at: Date): SqlFragment;
}
