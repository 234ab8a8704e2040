import { ForbiddenError, UnauthenticatedError } from './errors.ts';
import { isAdmin, type OpContext } from './op-context.ts';

/** @returns the error to return when the caller is not an admin, or undefined when it is. */
export function checkAdmin(op: OpContext): ForbiddenError | UnauthenticatedError | undefined {
  if (op.viewer.kind === 'anonymous') return new UnauthenticatedError();
  return isAdmin(op.viewer) ? undefined : new ForbiddenError('Only an admin can do this');
}

/** @returns the signed-in customer's id, or the UNAUTHENTICATED error for anyone else. */
export function checkCustomer(op: OpContext): { customerId: string } | UnauthenticatedError {
  return op.viewer.kind === 'customer' ? { customerId: op.viewer.customerId } : new UnauthenticatedError();
}
