import { IdempotencyKeyReusedError } from '../../../platform/errors.ts';
import type { IdempotencyClaim } from '../../../platform/idempotency.ts';
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
 * With `claim`, the idempotency key is claimed with the answer after the move, in its transaction
 * (ADR 0013; wrap the call in {@link transitionOnce}).
 * @returns the updated order, VERSION_CONFLICT (expectedVersion stale, or a concurrent change won),
 * ILLEGAL_TRANSITION, or IDEMPOTENCY_KEY_REUSED (the key was taken meanwhile; nothing committed).
 */
export async function transitionOrder(
  op: OpContext,
  deps: OrdersDeps,
  order: Order,
  request: { to: OrderStatus; expectedVersion?: number; actor: string | null; reason: string | null; claim?: IdempotencyClaim },
): Promise<Result<Order, IllegalTransitionError | VersionConflictError | IdempotencyKeyReusedError>> {
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
  const saved = await deps.uow.transaction<Order, VersionConflictError | IdempotencyKeyReusedError>(async (tx) => {
    const updated = await tx.saveStatusChange(change, lines.map((l) => l.productId));
    if (!updated) return err(new VersionConflictError(order.version, order.version + 1));
    // After the move, never before it (ADR 0012's rule; ADR 0013, orders).
    if (request.claim && !(await tx.claimKey(request.claim, updated))) return err(new IdempotencyKeyReusedError());
    if (releases) await tx.releaseStock(lines.map((l) => ({ productId: l.productId, quantity: l.quantity })));
    return ok(updated);
  });
  if (!saved.ok) {
    if (saved.error instanceof IdempotencyKeyReusedError) return err(saved.error);
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

/** The stored answer of `claim`'s key: the first order for the same request, or IDEMPOTENCY_KEY_REUSED; undefined when the key is free. */
async function replayOf(deps: OrdersDeps, claim: IdempotencyClaim): Promise<Result<Order, IdempotencyKeyReusedError> | undefined> {
  const stored = await deps.uow.storedAnswer(claim);
  if (!stored) return undefined;
  return stored.fingerprint === claim.fingerprint ? ok(stored.order) : err(new IdempotencyKeyReusedError());
}

/**
 * A keyed status change (ADR 0013, orders): the stored answer if the key was used, else `run`
 * (which claims the key after its move). A failed run reads the key again: a racing twin with the
 * same key may have won (its move made ours a VERSION_CONFLICT or ILLEGAL_TRANSITION; we waited on
 * the order's row lock until it committed, key included), and then its answer is ours. Without a
 * claim, just `run`.
 */
export async function transitionOnce<E>(
  deps: OrdersDeps,
  claim: IdempotencyClaim | undefined,
  run: () => Promise<Result<Order, E>>,
): Promise<Result<Order, E | IdempotencyKeyReusedError>> {
  if (!claim) return run();
  const before = await replayOf(deps, claim);
  if (before) return before;
  const result = await run();
  if (result.ok) return result;
  return (await replayOf(deps, claim)) ?? result;
}
