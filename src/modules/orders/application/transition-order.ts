import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { IllegalTransitionError, VersionConflictError } from '../domain/errors.ts';
import type { Order, OrderStatusChange } from '../domain/order.ts';
import { canTransition, type OrderStatus } from '../domain/status-machine.ts';
import type { OrdersDeps } from './deps.ts';
import { announceCommitted } from './publish.ts';

/** Statuses in which an order no longer holds its reserved stock. */
const RELEASES_STOCK: readonly OrderStatus[] = ['CANCELLED', 'PAYMENT_FAILED'];

/**
 * Moves a loaded order to `to` through the status machine, with optimistic locking, appending the
 * audit entry (and its outbox event). Cancelling or failing payment puts the stock back in the same
 * transaction; cancelling a PAID order refunds the charge after commit: cancel first, so a refund
 * never races a shipment; a failed refund is logged and left to the reconciler (the refund was
 * requested on record before it was sent) rather than undoing the cancel.
 * @returns the updated order, VERSION_CONFLICT (expectedVersion stale, or a concurrent change won),
 * or ILLEGAL_TRANSITION.
 */
export async function transitionOrder(
  op: OpContext,
  deps: OrdersDeps,
  order: Order,
  request: { to: OrderStatus; expectedVersion?: number; actor: string | null; reason: string | null },
): Promise<Result<Order, IllegalTransitionError | VersionConflictError>> {
  if (request.expectedVersion !== undefined && request.expectedVersion !== order.version) {
    return err(new VersionConflictError(request.expectedVersion, order.version));
  }
  if (!canTransition(order.status, request.to)) return err(new IllegalTransitionError(order.status, request.to));
  const change: OrderStatusChange = {
    orderId: order.id,
    customerId: order.customerId,
    version: order.version + 1,
    from: order.status,
    to: request.to,
    at: deps.clock(),
    actor: request.actor,
    reason: request.reason,
  };
  // Read before the transaction: inside it only `tx` may touch the database (one pooled connection).
  const releases = RELEASES_STOCK.includes(request.to);
  const lines = releases ? await deps.reader.findLines([order.id]) : [];
  op.signal.throwIfAborted();
  const saved = await deps.uow.transaction<Order, VersionConflictError>(async (tx) => {
    const updated = await tx.saveStatusChange(change);
    if (!updated) return err(new VersionConflictError(order.version, order.version + 1));
    if (releases) await tx.releaseStock(lines.map((l) => ({ productId: l.productId, quantity: l.quantity })));
    return ok(updated);
  });
  if (!saved.ok) {
    const [current] = await deps.reader.findByIds([order.id]);
    return err(new VersionConflictError(request.expectedVersion ?? order.version, current?.version ?? order.version));
  }
  announceCommitted(deps);
  if (request.to === 'CANCELLED' && order.status === 'PAID') {
    try {
      await deps.payments.refund(op, { orderId: order.id });
    } catch (error) {
      deps.logger.error({ err: error, orderId: order.id }, 'refund of a cancelled order failed; left for reconciliation');
    }
  }
  return ok(saved.value);
}
