import { checkAdmin } from '../../../platform/authz.ts';
import { ValidationError, type ForbiddenError, type UnauthenticatedError } from '../../../platform/errors.ts';
import type { OpContext, Role } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import {
  CUSTOMER_ROLES,
  CUSTOMER_TIERS,
  checkNewAccount,
  isCustomerTier,
  isRole,
  normalizeEmail,
  normalizePassword,
  type Customer,
  type CustomerTier,
} from '../domain/customer.ts';
import type { CustomerRepository, PasswordHasher } from './ports.ts';

/** A seeded account's fields, checked by the same rules as sign-up. */
export interface RegisterCustomerInput {
  readonly email: string;
  readonly password: string;
  readonly name: string;
  readonly role: Role;
  readonly tier: CustomerTier;
}

/**
 * Creates an account with a chosen role and tier, for seeding demo data (system or admin only).
 * Idempotent by e-mail: when the address is registered, the existing account is returned unchanged
 * (its password, name, role and tier are not touched), so seeding can run on every start.
 * @returns the account; VALIDATION_FAILED, FORBIDDEN or UNAUTHENTICATED.
 */
export type RegisterCustomer = (
  op: OpContext,
  input: RegisterCustomerInput,
) => Promise<Result<Customer, ValidationError | ForbiddenError | UnauthenticatedError>>;

/** Builds {@link RegisterCustomer}; `now` stamps createdAt/updatedAt (default: the wall clock). */
export function createRegisterCustomer(deps: { customers: CustomerRepository; passwords: PasswordHasher; now?: () => Date }): RegisterCustomer {
  const now = deps.now ?? (() => new Date());
  return async (op, input) => {
    const denied = checkAdmin(op);
    if (denied) return err(denied);
    const issues = checkNewAccount(input);
    if (!isRole(input.role)) issues.push({ path: ['role'], message: `must be one of ${CUSTOMER_ROLES.join(', ')}` });
    if (!isCustomerTier(input.tier)) issues.push({ path: ['tier'], message: `must be one of ${CUSTOMER_TIERS.join(', ')}` });
    if (issues.length > 0) return err(new ValidationError(issues));
    const email = normalizeEmail(input.email);
    op.signal.throwIfAborted();
    const existing = await deps.customers.findByEmail(email);
    if (existing) return ok(existing.customer);
    const passwordHash = await deps.passwords.hash(normalizePassword(input.password));
    const at = now();
    const customer: Customer = { id: crypto.randomUUID(), email, name: input.name.trim(), role: input.role, tier: input.tier, createdAt: at, updatedAt: at };
    op.signal.throwIfAborted();
    if (await deps.customers.insert(customer, passwordHash)) return ok(customer);
    // Lost a race with a concurrent registration of the same address: that account is the result.
    const winner = await deps.customers.findByEmail(email);
    if (!winner) throw new Error(`customer ${email} was reported as duplicate but cannot be found`);
    return ok(winner.customer);
  };
}
