import { IdempotencyKeyReusedError, ValidationError } from '../../../platform/errors.ts';
import { idempotencyKeyIssues, requestFingerprint } from '../../../platform/idempotency.ts';
import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { checkNewAccount, normalizeEmail, normalizePassword, type Customer } from '../domain/customer.ts';
import type { AuthSession, CustomerRepository, IdempotentCustomerWrites, PasswordHasher, TokenIssuer } from './ports.ts';

/** A new account's fields as the person typed them; they are trimmed and normalized here. */
export interface SignUpInput {
  readonly email: string;
  readonly password: string;
  readonly name: string;
  /**
   * Optional: a retry with the same key and input answers the first call's account (with a fresh
   * token) without opening another. Owned by the normalized e-mail, not the caller (ADR 0013).
   */
  readonly idempotencyKey?: string;
}

/**
 * Opens a customer account (role CUSTOMER, tier BASIC) and signs it in. Open to anyone. With an
 * idempotency key, the account is opened once per (e-mail, key) within 24 h, also when retries
 * race; a replay mints a new token only for the same name and a password that matches the
 * account's hash, so a key is no way into someone else's account.
 * @returns the account with an access token; VALIDATION_FAILED for bad fields or an e-mail that
 * is already registered (path `email`); IDEMPOTENCY_KEY_REUSED when the key was used for this
 * e-mail with another name or password.
 */
export type SignUp = (op: OpContext, input: SignUpInput) => Promise<Result<AuthSession, ValidationError | IdempotencyKeyReusedError>>;

/** Builds {@link SignUp}; `now` stamps createdAt/updatedAt (default: the wall clock). */
export function createSignUp(deps: {
  customers: CustomerRepository;
  passwords: PasswordHasher;
  tokens: TokenIssuer;
  writes: IdempotentCustomerWrites;
  now?: () => Date;
}): SignUp {
  const now = deps.now ?? (() => new Date());
  return async (op, input) => {
    const issues = checkNewAccount(input);
    if (input.idempotencyKey !== undefined) issues.push(...idempotencyKeyIssues(input.idempotencyKey, ['idempotencyKey']));
    if (issues.length > 0) return err(new ValidationError(issues));
    op.signal.throwIfAborted();
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
    const password = normalizePassword(input.password);
    const open = async (customers: CustomerRepository): Promise<Result<Customer, ValidationError>> => {
      const passwordHash = await deps.passwords.hash(password);
      op.signal.throwIfAborted();
      // The unique index decides, so two concurrent sign-ups with one address cannot both win.
      if (!(await customers.insert(customer, passwordHash))) return err(ValidationError.of(['email'], 'is already registered'));
      return ok(customer);
    };
    if (input.idempotencyKey === undefined) {
      const opened = await open(deps.customers);
      return opened.ok ? ok({ customer, ...(await deps.tokens.issue({ customerId: customer.id, role: customer.role })) }) : opened;
    }
    // The password stays out of the fingerprint (a fast hash of it would be an offline guessing
    // target): a replay checks it against the account's own argon2 hash instead.
    const claim = { identity: `signup:${customer.email}`, key: input.idempotencyKey, fingerprint: requestFingerprint('signUp', { email: customer.email, name: customer.name }) };
    const opened = await deps.writes.once(claim, open);
    if (!opened.ok) return opened;
    if (opened.value.id !== customer.id && !(await presentsPasswordOf(deps, opened.value, password))) return err(new IdempotencyKeyReusedError());
    return ok({ customer: opened.value, ...(await deps.tokens.issue({ customerId: opened.value.id, role: opened.value.role })) });
  };
}

/** Whether `password` is the replayed account's: it still has the e-mail and its hash matches. */
async function presentsPasswordOf(deps: { customers: CustomerRepository; passwords: PasswordHasher }, account: Customer, password: string): Promise<boolean> {
  const current = await deps.customers.findByEmail(account.email);
  return current?.customer.id === account.id && (await deps.passwords.verify(current.passwordHash, password));
}
