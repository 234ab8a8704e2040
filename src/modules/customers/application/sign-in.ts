import { AppError, ValidationError, type FieldIssue } from '../../../platform/errors.ts';
import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { textIssues } from '../../../platform/text.ts';
import { CUSTOMER_LIMITS, checkPasswordText, normalizeEmail, normalizePassword } from '../domain/customer.ts';
import type { AttemptThrottle, AuthSession, CustomerRepository, PasswordHasher, TokenIssuer } from './ports.ts';

/**
 * Sign-in failed. One code and one message whether the e-mail is unknown or the password wrong,
 * so the response does not reveal which addresses have accounts.
 */
export class InvalidCredentialsError extends AppError {
  readonly code = 'INVALID_CREDENTIALS';
  constructor() {
    super('The e-mail or password is incorrect');
  }
}

/** Too many attempts from this client: try again after `retryAfterSeconds`. */
export class RateLimitedError extends AppError {
  readonly code = 'RATE_LIMITED';
  /** Whole seconds until the next attempt is allowed (at least 1). */
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(`Too many attempts; retry in ${seconds} s`);
    this.retryAfterSeconds = seconds;
  }
}

/**
 * An argon2id hash of a random, discarded password, with the parameters of Argon2PasswordHasher
 * (m=19456, t=2, p=1; a test pins them together). Verifying against it when the e-mail is unknown
 * costs what a real verification costs, so response time does not reveal which addresses exist.
 */
export const DUMMY_PASSWORD_HASH = '$argon2id$v=19$m=19456,t=2,p=1$HHh+uXXwRLzV99adIWVMtQ$cUI+sO2caUharQSV7Azcb30+hyS5L9SP8IMxXgplGk4';

/** Credentials as typed; the e-mail is matched case-insensitively. */
export interface SignInInput {
  readonly email: string;
  readonly password: string;
}

/**
 * Checks an e-mail and password and issues an access token carrying the account's current role.
 * An unknown e-mail costs one password verification too (against {@link DUMMY_PASSWORD_HASH}), so
 * it answers with the same error in about the same time as a wrong password.
 * @returns the account with an access token; INVALID_CREDENTIALS; VALIDATION_FAILED when a field
 * is empty, longer than any account's can be, or holds a character no account's can (a control
 * character such as NUL, an unpaired surrogate), refused before any lookup or hashing; RATE_LIMITED
 * when the caller has used up its attempts (checked before the e-mail is even looked up).
 */
export type SignIn = (op: OpContext, input: SignInInput) => Promise<Result<AuthSession, InvalidCredentialsError | ValidationError | RateLimitedError>>;

/** Builds {@link SignIn}; without `throttle`, attempts are not limited. */
export function createSignIn(deps: { customers: CustomerRepository; passwords: PasswordHasher; tokens: TokenIssuer; throttle?: AttemptThrottle | undefined }): SignIn {
  return async (op, input) => {
    // Shape only, never the database: no account can hold a value refused here, so the answer
    // says nothing about which addresses exist.
    const email = normalizeEmail(input.email);
    const issues: FieldIssue[] = textIssues(email, ['email'], { minLength: 1, maxLength: CUSTOMER_LIMITS.emailMaxLength });
    const password = normalizePassword(input.password);
    if (password.length === 0) issues.push({ path: ['password'], message: `must be 1–${CUSTOMER_LIMITS.passwordMaxLength} characters` });
    else issues.push(...checkPasswordText(password));
    if (issues.length > 0) return err(new ValidationError(issues));
    // Before the lookup, so that being throttled says nothing about the e-mail either.
    const refused = await deps.throttle?.();
    if (refused) return err(new RateLimitedError(refused.retryAfterSeconds));
    op.signal.throwIfAborted();
    const account = await deps.customers.findByEmail(email);
    if (!account) {
      await deps.passwords.verify(DUMMY_PASSWORD_HASH, password);
      return err(new InvalidCredentialsError());
    }
    if (!(await deps.passwords.verify(account.passwordHash, password))) return err(new InvalidCredentialsError());
    const token = await deps.tokens.issue({ customerId: account.customer.id, role: account.customer.role });
    return ok({ customer: account.customer, ...token });
  };
}
