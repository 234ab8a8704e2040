import type { OpContext } from '../../../platform/op-context.ts';
import type { Payment } from '../domain/payment.ts';
import type { PaymentRepository } from './ports.ts';

/**
 * Payments the reconciler must look at: PENDING ones untouched since `olderThan` (outcome unknown),
 * and refunds requested before `olderThan` that have not completed. Internal: only the orders
 * reconciler calls it.
 * @returns at most `limit` of each kind, oldest first.
 */
export type ListPaymentsToReconcile = (op: OpContext, query: { readonly olderThan: Date; readonly limit: number }) => Promise<Payment[]>;

export function createListPaymentsToReconcile(deps: { payments: PaymentRepository }): ListPaymentsToReconcile {
  return async (op, { olderThan, limit }) => {
    op.signal.throwIfAborted();
    const [pending, refunds] = await Promise.all([deps.payments.findStalePending(olderThan, limit), deps.payments.findUnfinishedRefunds(olderThan, limit)]);
    return [...pending, ...refunds];
  };
}
