import type { OpContext } from '../../../platform/op-context.ts';
import type { ProviderEvent } from '../../payments/public.ts';
import { createApplyPaymentOutcome } from './apply-payment-outcome.ts';
import type { OrdersDeps } from './deps.ts';

/**
 * A payment provider's event (its webhook): the payments module records it exactly once, then the
 * order is brought in line with the payment through the status machine, so subscribers hear of it.
 * The order is brought in line for a replay too: that is idempotent, and finishes the job when an
 * earlier delivery was cut off between the payment and the order.
 * @returns whether the event was new and the order it concerned (null: not our charge).
 * @throws when recording or applying fails unexpectedly (the provider delivers the event again).
 */
export type HandleProviderEvent = (op: OpContext, event: ProviderEvent) => Promise<{ readonly applied: boolean; readonly orderId: string | null }>;

export function createHandleProviderEvent(deps: OrdersDeps): HandleProviderEvent {
  const applyPaymentOutcome = createApplyPaymentOutcome(deps);
  return async (op, event) => {
    const recorded = await deps.payments.recordProviderEvent(op, event);
    if (recorded.orderId && recorded.payment) await applyPaymentOutcome(op, { orderId: recorded.orderId, payment: recorded.payment });
    return { applied: recorded.applied, orderId: recorded.orderId };
  };
}
