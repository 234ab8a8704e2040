import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import type { Order, OrderStatusChange, RequestedLine } from '../domain/order.ts';
import type { OrdersDeps } from './deps.ts';
import type { PaymentDecline } from './ports.ts';
import { publishCommitted } from './publish.ts';

/**
 * Records the outcome of an order's charge: PAID, or PAYMENT_FAILED with its stock released, in one
 * transaction, then publishes the change. If the order moved on meanwhile (cancelled while the
 * charge was in flight), a successful charge is refunded, so no cancelled order keeps money.
 */
export async function settleAfterPayment(
  op: OpContext,
  deps: OrdersDeps,
  order: Order,
  lines: readonly RequestedLine[],
  charged: Result<unknown, PaymentDecline>,
): Promise<Result<Order, PaymentDecline>> {
  const change: OrderStatusChange = {
    orderId: order.id,
    customerId: order.customerId,
    version: order.version + 1,
    from: order.status,
    to: charged.ok ? 'PAID' : 'PAYMENT_FAILED',
    at: deps.clock(),
    actor: 'system:payments',
    reason: charged.ok ? null : `payment declined: ${charged.error.message}`,
  };
  const saved = await deps.uow.transaction<Order | undefined, never>(async (tx) => {
    const updated = await tx.saveStatusChange(change);
    if (updated && !charged.ok) await tx.releaseStock(lines);
    return ok(updated);
  });
  const updated = saved.ok ? saved.value : undefined;
  if (!updated) {
    const [current] = await deps.reader.findByIds([order.id]);
    if (charged.ok && current?.status === 'CANCELLED') await deps.payments.refund(op, { orderId: order.id });
    if (!current) throw new Error(`order ${order.id} vanished while settling its payment`);
    return charged.ok ? ok(current) : err(charged.error);
  }
  await publishCommitted(deps, [change]);
  return charged.ok ? ok(updated) : err(charged.error);
}
