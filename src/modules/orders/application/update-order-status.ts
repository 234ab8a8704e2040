import { checkAdmin } from '../../../platform/authz.ts';
import { NotFoundError, ValidationError, type ForbiddenError, type IdempotencyKeyReusedError, type UnauthenticatedError } from '../../../platform/errors.ts';
import { claimOf, idempotencyKeyIssues } from '../../../platform/idempotency.ts';
import { actorOf, type OpContext } from '../../../platform/op-context.ts';
import { err, type Result } from '../../../platform/result.ts';
import { IllegalTransitionError, type VersionConflictError } from '../domain/errors.ts';
import { checkReason, type Order } from '../domain/order.ts';
import { PAYMENT_DRIVEN_STATUSES, type OrderStatus } from '../domain/status-machine.ts';
import type { OrdersDeps } from './deps.ts';
import { transitionOnce, transitionOrder } from './transition-order.ts';

/**
 * Admin: moves an order through the status machine (ship, deliver, cancel) at the version the admin
 * saw. PAID and PAYMENT_FAILED are only ever set by payment processing. Cancelling refunds a paid
 * order and restocks, as for the owner's cancelOrder. With an idempotency key, the change happens
 * once per (caller, key) within 24 h, also when retries race; a retry answers the first call's
 * order (ADR 0013).
 * @returns the order, or NOT_FOUND, VERSION_CONFLICT, ILLEGAL_TRANSITION, VALIDATION_FAILED,
 * FORBIDDEN, UNAUTHENTICATED, IDEMPOTENCY_KEY_REUSED (the key was used for another request).
 */
export type UpdateOrderStatus = (
  op: OpContext,
  input: { readonly orderId: string; readonly status: OrderStatus; readonly expectedVersion: number; readonly reason?: string | null; readonly idempotencyKey?: string },
) => Promise<Result<Order, NotFoundError | VersionConflictError | IllegalTransitionError | ValidationError | ForbiddenError | UnauthenticatedError | IdempotencyKeyReusedError>>;

export function createUpdateOrderStatus(deps: OrdersDeps): UpdateOrderStatus {
  return async (op, input) => {
    const denied = checkAdmin(op);
    if (denied) return err(denied);
    const issues = [...(input.reason ? checkReason(input.reason) : []), ...(input.idempotencyKey !== undefined ? idempotencyKeyIssues(input.idempotencyKey, ['input', 'idempotencyKey']) : [])];
    if (issues.length > 0) return err(new ValidationError(issues));
    const { orderId, status, expectedVersion } = input;
    const reason = input.reason?.trim() || null;
    const claim = claimOf(op.viewer, input.idempotencyKey, 'updateOrderStatus', { orderId, status, expectedVersion, reason });
    return transitionOnce<NotFoundError | IllegalTransitionError | VersionConflictError | IdempotencyKeyReusedError>(deps, claim, async () => {
      const [order] = await deps.reader.findByIds([orderId]);
      if (!order) return err(new NotFoundError('order'));
      if (PAYMENT_DRIVEN_STATUSES.includes(status)) {
        return err(new IllegalTransitionError(order.status, status, `${status} is set by payment processing, not by hand`));
      }
      return transitionOrder(op, deps, order, { to: status, expectedVersion, actor: actorOf(op.viewer), reason, ...(claim ? { claim } : {}) });
    });
  };
}
