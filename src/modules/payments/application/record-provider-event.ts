import type { OpContext } from '../../../platform/op-context.ts';
import { orderIdOfChargeKey, refundIdempotencyKey, type Payment } from '../domain/payment.ts';
import type { PaymentProvider, PaymentsUnitOfWork } from './ports.ts';
import { callProvider } from './provider-call.ts';

/** A provider webhook event, verified and parsed. Amounts are integer minor units. */
export interface ProviderEvent {
  /** The provider's event id: the deduplication key. */
  readonly id: string;
  readonly type: 'charge.succeeded' | 'charge.failed' | 'charge.refunded';
  readonly chargeId: string;
  /** The idempotency key the charge was created with (ours: derived from the order id). */
  readonly idempotencyKey: string;
  readonly failureCode?: string;
  readonly failureMessage?: string;
  readonly refundId?: string;
}

/** What applying an event did. */
export interface ProviderEventResult {
  /** False for a replay of an event applied before, or for a charge that is not ours. */
  readonly applied: boolean;
  /** The order the charge belongs to, when it is ours. */
  readonly orderId: string | null;
  /** The payment after the event (for a replay: as it stands). */
  readonly payment: Payment | null;
}

/**
 * Applies a provider event exactly once: the event id is recorded in the same transaction as the
 * payment change, so a replay changes nothing. Events may arrive in any order; each moves the
 * payment only along its status machine (a `charge.refunded` seen first implies the charge
 * succeeded; a `charge.succeeded` after a refund is stale and ignored). A charge that succeeds for
 * a payment closed as never charged (VOIDED) is refunded after the commit.
 * @returns what happened; the caller moves the order accordingly.
 * @throws PaymentProviderUnavailableError when the refund of such a late charge cannot be sent
 * (the event is recorded; the reconciler retries the refund).
 */
export type RecordProviderEvent = (op: OpContext, event: ProviderEvent) => Promise<ProviderEventResult>;

export function createRecordProviderEvent(deps: {
  uow: PaymentsUnitOfWork;
  provider: PaymentProvider;
  timeoutMs: number;
  now?: () => Date;
}): RecordProviderEvent {
  const now = deps.now ?? (() => new Date());
  return async (op, event) => {
    const orderId = orderIdOfChargeKey(event.idempotencyKey) ?? null;
    const outcome = await deps.uow.transaction(async ({ payments, events }) => {
      const at = now();
      if (!(await events.remember(event.id, event.type, orderId, at))) {
        // A replay: nothing changes, but report the payment so the caller can make sure the order matches it.
        return { applied: false, payment: orderId ? await payments.findByOrderId(orderId) : null, lateCharge: false };
      }
      const payment = orderId ? await payments.findByOrderId(orderId) : null;
      if (!payment) return { applied: false, payment: null, lateCharge: false };
      let lateCharge = false;
      switch (event.type) {
        case 'charge.succeeded':
          if (payment.status === 'PENDING') await payments.markSucceeded(payment.id, event.chargeId, at);
          else if (payment.status === 'VOIDED') lateCharge = true;
          break;
        case 'charge.failed':
          if (payment.status === 'PENDING') {
            await payments.markDeclined(payment.id, event.failureCode ?? 'card_declined', event.failureMessage ?? 'The charge failed', at);
          }
          break;
        case 'charge.refunded': {
          const refundId = event.refundId ?? `refund-of-${event.chargeId}`;
          if (payment.status === 'PENDING') await payments.markSucceeded(payment.id, event.chargeId, at);
          if (payment.status === 'VOIDED') await payments.markRefunded(payment.id, refundId, at, event.chargeId);
          else await payments.markRefunded(payment.id, refundId, at);
          break;
        }
      }
      return { applied: true, payment: await payments.findByOrderId(payment.orderId), lateCharge };
    });
    let payment = outcome.payment;
    if (outcome.lateCharge && payment) {
      const voided = payment;
      await deps.uow.transaction(({ payments }) => payments.requestRefund(voided.id, now()));
      const { refundId } = await callProvider(op, deps.timeoutMs, (signal) =>
        deps.provider.refund(
          { idempotencyKey: refundIdempotencyKey(voided.orderId), chargeId: event.chargeId, amountMinor: voided.amountMinor, currency: voided.currency },
          signal,
        ),
      );
      payment = await deps.uow.transaction(async ({ payments }) => {
        await payments.markRefunded(voided.id, refundId, now(), event.chargeId);
        return payments.findByOrderId(voided.orderId);
      });
    }
    return { applied: outcome.applied, orderId, payment };
  };
}
