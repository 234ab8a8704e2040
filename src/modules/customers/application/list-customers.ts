import { checkAdmin } from '../../../platform/authz.ts';
import type { ForbiddenError, UnauthenticatedError, ValidationError } from '../../../platform/errors.ts';
import type { OpContext } from '../../../platform/op-context.ts';
import { toPageWindow, type Page, type PageArgs } from '../../../platform/pagination.ts';
import { err, type Result } from '../../../platform/result.ts';
import type { Customer } from '../domain/customer.ts';
import type { CustomerRepository } from './ports.ts';

/**
 * Lists every account as a Relay page, oldest first (createdAt, then id). Admin only.
 * @returns the page; VALIDATION_FAILED for bad pagination arguments or cursors, FORBIDDEN or UNAUTHENTICATED.
 */
export type ListCustomers = (
  op: OpContext,
  query: PageArgs,
) => Promise<Result<Page<Customer>, ValidationError | ForbiddenError | UnauthenticatedError>>;

/** Builds {@link ListCustomers}. */
export function createListCustomers(deps: { customers: CustomerRepository }): ListCustomers {
  return async (op, query) => {
    const denied = checkAdmin(op);
    if (denied) return err(denied);
    const window = toPageWindow(query);
    if (!window.ok) return err(window.error);
    op.signal.throwIfAborted();
    return deps.customers.findPage(window.value);
  };
}
