import { NotFoundError, UnauthenticatedError, ValidationError } from '../../../platform/errors.ts';
import { actorOf, canSeeOwnedBy, type OpContext } from '../../../platform/op-context.ts';
import { err, type Result } from '../../../platform/result.ts';
import type { IllegalTransitionError, VersionConflictError } from '../domain/errors.ts';
import { checkReason, type Order } from '../domain/order.ts';
import type { OrdersDeps } from './deps.ts';
import { transitionOrder } from './transition-order.ts';

/**
 * Cancels an order for its owner or an admin: PENDING or PAID only (a PAID order is refunded);
 * its stock goes back on the shelf. Another customer's order answers NOT_FOUND, like a missing id.
 * @returns the cancelled order, or NOT_FOUND, ILLEGAL_TRANSITION, VERSION_CONFLICT,
 * VALIDATION_FAILED (a reason too long or with control characters), UNAUTHENTICATED.
 */
export type CancelOrder = (
  op: OpContext,
  input: { readonly orderId: string; readonly reason?: string | null; readonly expectedVersion?: number },
) => Promise<Result<Order, NotFoundError | IllegalTransitionError | VersionConflictError | ValidationError | UnauthenticatedError>>;

export function createCancelOrder(deps: OrdersDeps): CancelOrder {
  return async (op, input) => {
    if (op.viewer.kind === 'anonymous') return err(new UnauthenticatedError());
    const reasonIssues = input.reason ? checkReason(input.reason) : [];
    if (reasonIssues.length > 0) return err(new ValidationError(reasonIssues));
    const [order] = await deps.reader.findByIds([input.orderId]);
    if (!order || !canSeeOwnedBy(op.viewer, order.customerId)) return err(new NotFoundError('order'));
    return transitionOrder(op, deps, order, {
      to: 'CANCELLED',
      ...(input.expectedVersion !== undefined ? { expectedVersion: input.expectedVersion } : {}),
      actor: actorOf(op.viewer),
      reason: input.reason?.trim() || null,
    });
  };
}
