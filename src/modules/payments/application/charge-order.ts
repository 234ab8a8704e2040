import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { noCrashPoints, type CrashPoints } from '../../../platform/crash-points.ts';
import { chargeIdempotencyKey, PaymentDeclinedError, refundIdempotencyKey, type Payment } from '../domain/payment.ts';
import type { ChargeOutcome, PaymentProvider, PaymentRepository } from './ports.ts';
import { callProvider } from './provider-call.ts';

/** What to charge: an order's total in integer minor units of `currency`. */
export interface ChargeOrderInput {
  readonly orderId: string;
  /** A positive safe integer. */
  readonly amountMinor: number;
  /** ISO 4217 code, e.g. "USD". */
  readonly currency: string;
}

/**
 * Charges an order in one call: writes its payment, sends the charge and records the answer (the
 * orders module splits this for a new order: the payment is written with the order, the charge
 * sent with {@link SendCharge}, and the answer recorded with the order's status). Never charges an
 * order twice: the payment row (PENDING, with an idempotency key derived from the order id) is
 * written before the provider is called, so every later call, in this or another process, finds it
 * and re-sends the same key, which the provider deduplicates.
 *
 * - No payment yet, or one left PENDING (a concurrent call, a crash, an earlier timeout): calls the
 *   provider with the payment's idempotency key and records SUCCEEDED or DECLINED.
 * - SUCCEEDED or REFUNDED already: returns it without calling the provider.
 * - DECLINED already: returns the same PAYMENT_DECLINED again; VOIDED (closed as never charged by
 *   the reconciler): PAYMENT_DECLINED with code `payment_voided`.
 * - The provider charges a payment the reconciler has meanwhile VOIDED: the late charge is refunded
 *   at once and PAYMENT_DECLINED returned.
 *
 * Run it outside a database transaction: the PENDING row must be committed before money can move.
 * There is no authorization check; only the orders module calls it, for an order it has authorized.
 * @returns the payment; PAYMENT_DECLINED when the provider refused the charge.
 * @throws PaymentProviderUnavailableError when the provider failed or did not answer within the
 * timeout (the payment stays PENDING); the abort reason when `op.signal` is aborted; RangeError for
 * an amount or currency that is not valid, or that differs from the order's existing payment.
 */
export type ChargeOrder = (op: OpContext, input: ChargeOrderInput) => Promise<Result<Payment, PaymentDeclinedError>>;

/** What the charge use cases are made from. */
export interface ChargeDeps {
  readonly payments: PaymentRepository;
  readonly provider: PaymentProvider;
  /** Bound on one whole provider call including the adapter's retries, in ms. */
  readonly timeoutMs: number;
  readonly crashPoints?: CrashPoints;
  readonly now?: () => Date;
}

export function createChargeOrder(deps: ChargeDeps): ChargeOrder {
  const { payments } = deps;
  const now = deps.now ?? (() => new Date());
  const { send, record } = chargeSteps(deps);

  const settle = async (op: OpContext, pending: Payment): Promise<Result<Payment, PaymentDeclinedError>> => {
    // On record before the call: if the process dies now, the reconciler knows a charge may exist.
    await payments.recordAttempt(pending.id, now());
    return record(op, pending, await send(op, pending, pending.id));
  };

  return async (op, input) => {
    checkInput(input);
    op.signal.throwIfAborted();
    // Insert first (ON CONFLICT DO NOTHING): a fresh order, the usual case, has no payment yet and
    // needs no read. A retry, or losing the race to a concurrent call, continues with the stored
    // row and its key.
    const pending = newPendingPayment(input, now());
    const payment = (await payments.insertPending(pending)) ? pending : await payments.findByOrderId(input.orderId);
    if (!payment) throw new Error(`The payment of order ${input.orderId} vanished while it was being created`);
    if (payment.amountMinor !== input.amountMinor || payment.currency !== input.currency) {
      // The key would make the provider replay the first charge, so a different amount cannot be charged under it.
      throw new RangeError(
        `Order ${input.orderId} already has a payment of ${payment.amountMinor} ${payment.currency} minor units, not ${input.amountMinor} ${input.currency}`,
      );
    }
    return payment.status === 'PENDING' ? settle(op, payment) : fromSettled(payment, input.orderId);
  };
}

/**
 * Sends the charge of an order whose PENDING payment, with its attempt counted, is committed
 * already (written with the order, see PaymentStatements.insertPending), and returns the
 * provider's answer without recording it: the caller records it in the same statement as its own
 * change (PaymentStatements.recordAnswer), or, when the payment had moved on meanwhile, hands it
 * to {@link SettleCharge}. Same key as {@link ChargeOrder}, so the provider charges at most once.
 * Run it outside any database transaction.
 * @throws PaymentProviderUnavailableError when the provider failed or did not answer in time (the
 * payment stays PENDING, for the reconciler); the abort reason when `op.signal` is aborted;
 * RangeError for an amount or currency that is not valid.
 */
export type SendCharge = (op: OpContext, input: ChargeOrderInput) => Promise<ChargeOutcome>;

export function createSendCharge(deps: ChargeDeps): SendCharge {
  const { send } = chargeSteps(deps);
  return async (op, input) => {
    checkInput(input);
    op.signal.throwIfAborted();
    const { orderId, amountMinor, currency } = input;
    return send(op, { orderId, amountMinor, currency, idempotencyKey: chargeIdempotencyKey(orderId) });
  };
}

/**
 * Records a provider's answer from {@link SendCharge} that the caller could not record with its
 * own change, and answers as {@link ChargeOrder} does: the payment was no longer PENDING (settled
 * by a webhook with the same answer; or VOIDED by the reconciler meanwhile, and then a successful
 * charge is refunded at once and PAYMENT_DECLINED returned), or the caller's change failed (the
 * answer is on record already and is returned as it stands).
 * @throws Error when the order has no payment.
 */
export type SettleCharge = (op: OpContext, input: { readonly orderId: string; readonly answer: ChargeOutcome }) => Promise<Result<Payment, PaymentDeclinedError>>;

export function createSettleCharge(deps: ChargeDeps): SettleCharge {
  const { record } = chargeSteps(deps);
  return async (op, { orderId, answer }) => {
    const payment = await deps.payments.findByOrderId(orderId);
    if (!payment) throw new Error(`The payment of order ${orderId} vanished while it was being charged`);
    return record(op, payment, answer);
  };
}

/** What a charge is sent with. */
type ChargeSent = Pick<Payment, 'orderId' | 'idempotencyKey' | 'amountMinor' | 'currency'>;

/** The two halves of a charge: sending it to the provider, and recording the answer. */
function chargeSteps(deps: ChargeDeps) {
  const { payments, provider, timeoutMs } = deps;
  const now = deps.now ?? (() => new Date());
  const crash = deps.crashPoints ?? noCrashPoints;

  /**
   * Calls the provider once (with the adapter's retries), between the two crash points of ADR 7;
   * a failure is noted on the payment (`paymentId`, or the order's payment found by its id).
   */
  const send = async (op: OpContext, charge: ChargeSent, paymentId?: string): Promise<ChargeOutcome> => {
    crash.reach('payment.before-charge');
    let answer: ChargeOutcome;
    try {
      answer = await callProvider(op, timeoutMs, (signal) =>
        provider.charge({ idempotencyKey: charge.idempotencyKey, amountMinor: charge.amountMinor, currency: charge.currency, orderId: charge.orderId }, signal),
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const id = paymentId ?? (await payments.findByOrderId(charge.orderId).catch(() => null))?.id;
      if (id) await payments.recordAttemptError(id, message).catch(() => undefined);
      throw error;
    }
    crash.reach('payment.after-charge');
    return answer;
  };

  /** Records the answer if the payment is still PENDING; otherwise answers with what it became. */
  const record = async (op: OpContext, pending: Payment, answer: ChargeOutcome): Promise<Result<Payment, PaymentDeclinedError>> => {
    // Recorded even if op.signal was aborted meanwhile: the provider has answered, money may have moved.
    const at = now();
    if (answer.outcome === 'SUCCEEDED') {
      const succeeded = await payments.markSucceeded(pending.id, answer.chargeId, at);
      if (succeeded) return ok(succeeded);
    } else if (await payments.markDeclined(pending.id, answer.code, answer.message, at)) {
      return err(new PaymentDeclinedError(pending.orderId, answer.code, answer.message));
    }
    const current = await payments.findByOrderId(pending.orderId);
    if (answer.outcome === 'SUCCEEDED' && current?.status === 'VOIDED') {
      // The reconciler closed this attempt as "never charged" while the request was in flight:
      // the charge must not stand for an order that has failed meanwhile.
      return refundLateCharge(op, current, answer.chargeId);
    }
    // A concurrent call with the same key settled it first; what it stored is the provider's answer.
    return fromSettled(current, pending.orderId);
  };

  const refundLateCharge = async (op: OpContext, voided: Payment, chargeId: string): Promise<Result<Payment, PaymentDeclinedError>> => {
    // On record first: if this refund fails or the process dies, the reconciler retries it.
    await payments.requestRefund(voided.id, now());
    const { refundId } = await callProvider(op, timeoutMs, (signal) =>
      provider.refund({ idempotencyKey: refundIdempotencyKey(voided.orderId), chargeId, amountMinor: voided.amountMinor, currency: voided.currency }, signal),
    );
    await payments.markRefunded(voided.id, refundId, now(), chargeId);
    return err(voidedDecline(voided.orderId));
  };

  return { send, record };
}

/** A PENDING payment for an order, with the key derived from the order id. */
export function newPendingPayment(input: ChargeOrderInput, at: Date): Payment & { readonly status: 'PENDING' } {
  return {
    id: crypto.randomUUID(),
    orderId: input.orderId,
    idempotencyKey: chargeIdempotencyKey(input.orderId),
    amountMinor: input.amountMinor,
    currency: input.currency,
    status: 'PENDING',
    providerChargeId: null,
    providerRefundId: null,
    declineCode: null,
    declineMessage: null,
    createdAt: at,
    updatedAt: at,
    refundedAt: null,
    attemptCount: 0,
    lastAttemptAt: null,
    lastError: null,
    refundRequestedAt: null,
  };
}

/** The decline reported for a payment closed as never charged (VOIDED). */
export const voidedDecline = (orderId: string): PaymentDeclinedError =>
  new PaymentDeclinedError(orderId, 'payment_voided', 'The payment could not be confirmed in time and was cancelled; nothing was charged');

function fromSettled(payment: Payment | null, orderId: string): Result<Payment, PaymentDeclinedError> {
  if (!payment || payment.status === 'PENDING') throw new Error(`The payment of order ${orderId} could not be settled`);
  if (payment.status === 'DECLINED') return err(PaymentDeclinedError.of(payment));
  if (payment.status === 'VOIDED') return err(voidedDecline(orderId));
  return ok(payment);
}

function checkInput(input: ChargeOrderInput): void {
  if (!Number.isSafeInteger(input.amountMinor) || input.amountMinor <= 0) {
    throw new RangeError(`amountMinor must be a positive safe integer, got ${input.amountMinor}`);
  }
  if (!/^[A-Z]{3}$/.test(input.currency)) throw new RangeError(`currency must be an ISO 4217 code, got "${input.currency}"`);
}
