import { ValidationError } from '../../../platform/errors.ts';
import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { checkNewAccount, normalizeEmail, normalizePassword, type Customer } from '../domain/customer.ts';
import type { AuthSession, CustomerRepository, PasswordHasher, TokenIssuer } from './ports.ts';

/** A new account's fields as the person typed them; they are trimmed and normalized here. */
export interface SignUpInput {
  readonly email: string;
  readonly password: string;
  readonly name: string;
}

/**
 * Opens a customer account (role CUSTOMER, tier BASIC) and signs it in. Open to anyone.
 * @returns the account with an access token; VALIDATION_FAILED for bad fields or an e-mail that
 * is already registered (path `email`).
 */
export type SignUp = (op: OpContext, input: SignUpInput) => Promise<Result<AuthSession, ValidationError>>;

/** Builds {@link SignUp}; `now` stamps createdAt/updatedAt (default: the wall clock). */
export function createSignUp(deps: {
  customers: CustomerRepository;
  passwords: PasswordHasher;
  tokens: TokenIssuer;
  now?: () => Date;
}): SignUp {
  const now = deps.now ?? (() => new Date());
  return async (op, input) => {
    const issues = checkNewAccount(input);
    if (issues.length > 0) return err(new ValidationError(issues));
    op.signal.throwIfAborted();
    const passwordHash = await deps.passwords.hash(normalizePassword(input.password));
    const at = now();
    const customer: Customer = {
      id: crypto.randomUUID(),
      email: normalizeEmail(input.email),
      name: input.name.trim(),
      role: 'CUSTOMER',
      tier: 'BASIC',
      createdAt: at,
      updatedAt: at,
    };
    op.signal.throwIfAborted();
    // The unique index decides, so two concurrent sign-ups with one address cannot both win.
    if (!(await deps.customers.insert(customer, passwordHash))) {
      return err(ValidationError.of(['email'], 'is already registered'));
    }
    const token = await deps.tokens.issue({ customerId: customer.id, role: customer.role });
    return ok({ customer, ...token });
  };
}
