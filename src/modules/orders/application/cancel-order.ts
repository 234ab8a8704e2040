import { NotFoundError, UnauthenticatedError, ValidationError, type IdempotencyKeyReusedError } from '../../../platform/errors.ts';
import { claimOf, idempotencyKeyIssues } from '../../../platform/idempotency.ts';
import { actorOf, canSeeOwnedBy, type OpContext } from '../../../platform/op-context.ts';
import { err, type Result } from '../../../platform/result.ts';
import type { IllegalTransitionError, VersionConflictError } from '../domain/errors.ts';
import { checkReason, type Order } from '../domain/order.ts';
import type { OrdersDeps } from './deps.ts';
import { transitionOnce, transitionOrder } from './transition-order.ts';

/**
 * Cancels an order for its owner or an admin: PENDING or PAID only (a PAID order is refunded);
 * its stock goes back on the shelf. Another customer's order answers NOT_FOUND, like a missing id.
 * With an idempotency key, the cancellation (and its refund) happens once per (caller, key) within
 * 24 h, also when retries race; a retry answers the first call's order (ADR 0013).
 * @returns the cancelled order, or NOT_FOUND, ILLEGAL_TRANSITION, VERSION_CONFLICT,
 * VALIDATION_FAILED (a reason too long or with control characters, a bad key), UNAUTHENTICATED,
 * IDEMPOTENCY_KEY_REUSED (the key was used for another request).
 */
export type CancelOrder = (
  op: OpContext,
  input: { readonly orderId: string; readonly reason?: string | null; readonly expectedVersion?: number; readonly idempotencyKey?: string },
) => Promise<Result<Order, NotFoundError | IllegalTransitionError | VersionConflictError | ValidationError | UnauthenticatedError | IdempotencyKeyReusedError>>;

export function createCancelOrder(deps: OrdersDeps): CancelOrder {
  return async (op, input) => {
    if (op.viewer.kind === 'anonymous') return err(new UnauthenticatedError());
    const issues = [...(input.reason ? checkReason(input.reason) : []), ...(input.idempotencyKey !== undefined ? idempotencyKeyIssues(input.idempotencyKey, ['input', 'idempotencyKey']) : [])];
    if (issues.length > 0) return err(new ValidationError(issues));
    const reason = input.reason?.trim() || null;
    const expected = input.expectedVersion !== undefined ? { expectedVersion: input.expectedVersion } : {};
    const claim = claimOf(op.viewer, input.idempotencyKey, 'cancelOrder', { orderId: input.orderId, reason, ...expected });
    return transitionOnce<NotFoundError | IllegalTransitionError | VersionConflictError | IdempotencyKeyReusedError>(deps, claim, async () => {
      const [order] = await deps.reader.findByIds([input.orderId]);
      if (!order || !canSeeOwnedBy(op.viewer, order.customerId)) return err(new NotFoundError('order'));
      return transitionOrder(op, deps, order, { to: 'CANCELLED', ...expected, actor: actorOf(op.viewer), reason, ...(claim ? { claim } : {}) });
    });
  };
}
