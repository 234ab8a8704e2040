import { checkAdmin } from '../../../platform/authz.ts';
import { NotFoundError, ValidationError, type FieldIssue, type ForbiddenError, type IdempotencyKeyReusedError, type UnauthenticatedError } from '../../../platform/errors.ts';
import { claimOf, idempotencyKeyIssues } from '../../../platform/idempotency.ts';
import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { CUSTOMER_TIERS, isCustomerTier, type Customer, type CustomerTier } from '../domain/customer.ts';
import type { CustomerRepository, IdempotentCustomerWrites } from './ports.ts';

export interface SetCustomerTierInput {
  readonly customerId: string;
  readonly tier: CustomerTier;
  /** Optional: a retry with the same key and input answers the first result without changing again (ADR 0013). */
  readonly idempotencyKey?: string;
}

export type SetCustomerTierError = NotFoundError | ForbiddenError | UnauthenticatedError | ValidationError | IdempotencyKeyReusedError;

/**
 * Moves a customer to another pricing tier (admin only). Applies to orders priced afterwards. With
 * an idempotency key, the change happens once per (caller, key) within 24 h, also when retries race.
 * @returns the updated customer (for a replay, as the first call left it); VALIDATION_FAILED
 * (unknown tier, bad key), NOT_FOUND, FORBIDDEN, UNAUTHENTICATED, or IDEMPOTENCY_KEY_REUSED.
 */
export type SetCustomerTier = (op: OpContext, input: SetCustomerTierInput) => Promise<Result<Customer, SetCustomerTierError>>;

/** Builds {@link SetCustomerTier}; `now` stamps updatedAt (default: the wall clock). */
export function createSetCustomerTier(deps: { customers: CustomerRepository; writes: IdempotentCustomerWrites; now?: () => Date }): SetCustomerTier {
  const now = deps.now ?? (() => new Date());
  return async (op, input) => {
    const denied = checkAdmin(op);
    if (denied) return err(denied);
    const issues: FieldIssue[] = [];
    if (!isCustomerTier(input.tier)) issues.push({ path: ['tier'], message: `must be one of ${CUSTOMER_TIERS.join(', ')}` });
    if (input.idempotencyKey !== undefined) issues.push(...idempotencyKeyIssues(input.idempotencyKey, ['idempotencyKey']));
    if (issues.length > 0) return err(new ValidationError(issues, issues.length === 1 ? issues[0]!.message : undefined));
    op.signal.throwIfAborted();
    const { customerId, tier } = input;
    const claim = claimOf(op.viewer, input.idempotencyKey, 'setCustomerTier', { customerId, tier });
    const change = async (customers: CustomerRepository): Promise<Result<Customer, NotFoundError>> => {
      const customer = await customers.updateTier(customerId, tier, now());
      return customer ? ok(customer) : err(new NotFoundError('customer'));
    };
    return claim ? deps.writes.once(claim, change) : change(deps.customers);
  };
}
