import { AppError } from '../../../platform/errors.ts';
import { isLowerCaseUuid } from '../../../platform/uuid.ts';

/** Every payment status, in lifecycle order. */
export const PAYMENT_STATUSES = ['PENDING', 'SUCCEEDED', 'DECLINED', 'VOIDED', 'REFUNDED'] as const;

/**
 * Where a payment stands:
 * - PENDING: written before the provider is called; the outcome is not known yet (in flight, or
 *   the provider was unreachable or the process died; a later call with the same key settles it).
 * - SUCCEEDED: the provider charged the amount.
 * - DECLINED: the provider refused the charge; final, nothing was taken.
 * - VOIDED: the outcome was unknown and the provider later confirmed it holds no charge for the
 *   key; the attempt is closed and the order fails. A charge that still surfaces afterwards (a
 *   request that was in flight) is refunded at once (VOIDED → REFUNDED).
 * - REFUNDED: a succeeded charge was paid back in full; final.
 */
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** The charge of one order. There is at most one payment per order. */
export interface Payment {
  readonly id: string;
  readonly orderId: string;
  /** Sent with the charge so the provider deduplicates retries: {@link chargeIdempotencyKey}. */
  readonly idempotencyKey: string;
  /** Amount charged, in integer minor units of `currency` (always > 0). */
  readonly amountMinor: number;
  /** ISO 4217 code, e.g. "USD". */
  readonly currency: string;
  readonly status: PaymentStatus;
  /** The provider's id of the charge; set from SUCCEEDED on. */
  readonly providerChargeId: string | null;
  /** The provider's id of the refund; set when REFUNDED. */
  readonly providerRefundId: string | null;
  /** Machine-readable decline reason from the provider (e.g. "insufficient_funds"); set when DECLINED. */
  readonly declineCode: string | null;
  /** Human-readable decline reason from the provider; set when DECLINED. */
  readonly declineMessage: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly refundedAt: Date | null;
  /** Provider calls made for this charge, counted before each call. */
  readonly attemptCount: number;
  readonly lastAttemptAt: Date | null;
  /** Why the last provider call failed (transport failure, timeout), if it did. */
  readonly lastError: string | null;
  /** Set before a refund is sent; a refund requested but not REFUNDED yet is retried by the reconciler. */
  readonly refundRequestedAt: Date | null;
}

/**
 * The legal moves between statuses. DECLINED and REFUNDED are final: a declined order is paid by
 * placing a new order, and only full refunds exist. VOIDED → REFUNDED pays back a charge that
 * surfaced after its attempt was closed.
 */
export const PAYMENT_TRANSITIONS: { readonly [From in PaymentStatus]: readonly PaymentStatus[] } = {
  PENDING: ['SUCCEEDED', 'DECLINED', 'VOIDED'],
  SUCCEEDED: ['REFUNDED'],
  DECLINED: [],
  VOIDED: ['REFUNDED'],
  REFUNDED: [],
};

/** @returns true when a payment in status `from` may move to `to` (see {@link PAYMENT_TRANSITIONS}). */
export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return PAYMENT_TRANSITIONS[from].includes(to);
}

/**
 * Idempotency key of an order's charge: `order_<orderId>_charge`. Derived from the order, not
 * random, so every retry of the same charge (a re-drive, a reconciler, another process) sends the
 * same key and the provider charges at most once.
 */
export const chargeIdempotencyKey = (orderId: string): string => `order_${orderId}_charge`;

/** The order id inside a key made by {@link chargeIdempotencyKey}, or undefined for any other string. */
export function orderIdOfChargeKey(key: string): string | undefined {
  const orderId = /^order_(.*)_charge$/.exec(key)?.[1];
  return orderId !== undefined && isLowerCaseUuid(orderId) ? orderId : undefined;
}

/** Idempotency key of an order's refund: `order_<orderId>_refund` (same reasoning as the charge key). */
export const refundIdempotencyKey = (orderId: string): string => `order_${orderId}_refund`;

/** PAYMENT_DECLINED: the provider refused to charge the order. Nothing was taken. */
export class PaymentDeclinedError extends AppError {
  readonly code = 'PAYMENT_DECLINED';
  readonly orderId: string;
  /** The provider's machine-readable reason, e.g. "insufficient_funds". */
  readonly declineCode: string;
  /** `message` is the provider's human-readable reason. */
  constructor(orderId: string, declineCode: string, message: string) {
    super(message);
    this.orderId = orderId;
    this.declineCode = declineCode;
  }

  /** The error for a payment already recorded as DECLINED. */
  static of(payment: Payment): PaymentDeclinedError {
    return new PaymentDeclinedError(payment.orderId, payment.declineCode ?? 'declined', payment.declineMessage ?? 'The payment was declined');
  }
}
