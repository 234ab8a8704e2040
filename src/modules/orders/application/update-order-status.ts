import { checkAdmin } from '../../../platform/authz.ts';
import { NotFoundError, ValidationError, type ForbiddenError, type UnauthenticatedError } from '../../../platform/errors.ts';
import { actorOf, type OpContext } from '../../../platform/op-context.ts';
import { err, type Result } from '../../../platform/result.ts';
import { IllegalTransitionError, type VersionConflictError } from '../domain/errors.ts';
import { checkReason, type Order } from '../domain/order.ts';
import { PAYMENT_DRIVEN_STATUSES, type OrderStatus } from '../domain/status-machine.ts';
import type { OrdersDeps } from './deps.ts';
import { transitionOrder } from './transition-order.ts';

/**
 * Admin: moves an order through the status machine (ship, deliver, cancel) at the version the admin
 * saw. PAID and PAYMENT_FAILED are only ever set by payment processing. Cancelling refunds a paid
 * order and restocks, as for the owner's cancelOrder.
 * @returns the order, or NOT_FOUND, VERSION_CONFLICT, ILLEGAL_TRANSITION, VALIDATION_FAILED,
 * FORBIDDEN, UNAUTHENTICATED.
 */
export type UpdateOrderStatus = (
  op: OpContext,
  input: { readonly orderId: string; readonly status: OrderStatus; readonly expectedVersion: number; readonly reason?: string | null },
) => Promise<Result<Order, NotFoundError | VersionConflictError | IllegalTransitionError | ValidationError | ForbiddenError | UnauthenticatedError>>;

export function createUpdateOrderStatus(deps: OrdersDeps): UpdateOrderStatus {
  return async (op, input) => {
    const denied = checkAdmin(op);
    if (denied) return err(denied);
    const reasonIssues = input.reason ? checkReason(input.reason) : [];
    if (reasonIssues.length > 0) return err(new ValidationError(reasonIssues));
    const [order] = await deps.reader.findByIds([input.orderId]);
    if (!order) return err(new NotFoundError('order'));
    if (PAYMENT_DRIVEN_STATUSES.includes(input.status)) {
      return err(new IllegalTransitionError(order.status, input.status, `${input.status} is set by payment processing, not by hand`));
    }
    return transitionOrder(op, deps, order, {
      to: input.status,
      expectedVersion: input.expectedVersion,
      actor: actorOf(op.viewer),
      reason: input.reason?.trim() || null,
    });
  };
}
