import { checkAdmin } from '../../../platform/authz.ts';
import { NotFoundError, ValidationError, type ForbiddenError, type UnauthenticatedError } from '../../../platform/errors.ts';
import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { CUSTOMER_TIERS, isCustomerTier, type Customer, type CustomerTier } from '../domain/customer.ts';
import type { CustomerRepository } from './ports.ts';

/**
 * Moves a customer to another pricing tier (admin only). Applies to orders priced afterwards.
 * @returns the updated customer; VALIDATION_FAILED (unknown tier), NOT_FOUND, FORBIDDEN or UNAUTHENTICATED.
 */
export type SetCustomerTier = (
  op: OpContext,
  input: { readonly customerId: string; readonly tier: CustomerTier },
) => Promise<Result<Customer, NotFoundError | ForbiddenError | UnauthenticatedError | ValidationError>>;

/** Builds {@link SetCustomerTier}; `now` stamps updatedAt (default: the wall clock). */
export function createSetCustomerTier(deps: { customers: CustomerRepository; now?: () => Date }): SetCustomerTier {
  const now = deps.now ?? (() => new Date());
  return async (op, input) => {
    const denied = checkAdmin(op);
    if (denied) return err(denied);
    if (!isCustomerTier(input.tier)) return err(ValidationError.of(['tier'], `must be one of ${CUSTOMER_TIERS.join(', ')}`));
    op.signal.throwIfAborted();
    const customer = await deps.customers.updateTier(input.customerId, input.tier, now());
    return customer ? ok(customer) : err(new NotFoundError('customer'));
  };
}
