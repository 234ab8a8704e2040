import { runPool } from '../../../platform/worker-pool.ts';
import type { OpContext } from '../../../platform/op-context.ts';
import { createApplyPaymentOutcome } from './apply-payment-outcome.ts';
import type { OrdersDeps } from './deps.ts';

/** What one reconciliation pass did. */
export interface ReconcileReport {
  readonly examined: number;
  readonly settled: number;
  /** Orders whose payment could not be settled this time (provider unreachable); retried next pass. */
  readonly failed: number;
}

/**
 * One pass of the payment reconciler (issue #3): settles every order whose payment outcome is
 * unknown — PENDING orders and PENDING payments untouched for longer than the grace period, and
 * refunds requested but unfinished — by asking the provider by idempotency key, then moving the
 * order accordingly (PAID; PAYMENT_FAILED with stock released; a charge of an order that can no
 * longer be paid is refunded). Works through them with `concurrency` workers, stops early when
 * `op.signal` aborts, and never throws for one order's failure.
 */
export type ReconcileOrders = (
  op: OpContext,
  input: { readonly olderThan: Date; readonly limit: number; readonly concurrency: number },
) => Promise<ReconcileReport>;

export function createReconcileOrders(deps: OrdersDeps): ReconcileOrders {
  const applyPaymentOutcome = createApplyPaymentOutcome(deps);
  return async (op, { olderThan, limit, concurrency }) => {
    const [orders, paymentOrderIds] = await Promise.all([
      deps.reader.findStalePending(olderThan, limit),
      deps.payments.listToReconcile(op, { olderThan, limit }),
    ]);
    const ids = [...new Set([...orders.map((o) => o.id), ...paymentOrderIds])];
    let settled = 0;
    let failed = 0;
    await runPool(ids, concurrency, op.signal, async (orderId) => {
      try {
        const [order] = await deps.reader.findByIds([orderId]);
        if (!order) return;
        const payment = await deps.payments.reconcile(op, {
          orderId,
          amountMinor: order.totalMinor,
          currency: order.currency,
          payable: order.status === 'PENDING',
        });
        await applyPaymentOutcome(op, { orderId, payment });
        settled += 1;
      } catch (error) {
        if (op.signal.aborted) return;
        failed += 1;
        deps.logger.warn({ err: error, orderId }, 'payment reconciliation failed; retried on the next pass');
      }
    });
    return { examined: ids.length, settled, failed };
  };
}
