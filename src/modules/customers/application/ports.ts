import type { IdempotencyKeyReusedError, ValidationError } from '../../../platform/errors.ts';
import type { IdempotencyClaim } from '../../../platform/idempotency.ts';
import type { Role } from '../../../platform/op-context.ts';
import type { Page, PageWindow } from '../../../platform/pagination.ts';
import type { Result } from '../../../platform/result.ts';
import type { Customer, CustomerTier } from '../domain/customer.ts';

/** Persistence of customer accounts. Implementations return customers in no particular order unless stated. */
export interface CustomerRepository {
  /** Ids that do not exist (or are not UUIDs) are left out. */
  findByIds(ids: readonly string[]): Promise<Customer[]>;
  /** Looks an account up for sign-in. `email` must already be normalized. */
  findByEmail(email: string): Promise<{ readonly customer: Customer; readonly passwordHash: string } | undefined>;
  /** One page ordered by createdAt, then id. Tampered cursors give VALIDATION_FAILED. */
  findPage(window: PageWindow): Promise<Result<Page<Customer>, ValidationError>>;
  /** @returns false when the e-mail is already registered. */
  insert(customer: Customer, passwordHash: string): Promise<boolean>;
  /** Sets the tier and updatedAt. @returns the updated customer, or undefined when there is no such id. */
  updateTier(id: string, tier: CustomerTier, at: Date): Promise<Customer | undefined>;
}

/**
 * Runs a customer write at most once per idempotency claim within the window (ADR 0013).
 * `write` gets a repository inside one transaction that also claims the key and stores the
 * customer it answers (its public fields only), so the key and the change commit together or not
 * at all; a failure it returns rolls both back (the key stays free). A racing twin with the same
 * claim waits for the first to commit, then answers its stored customer without writing.
 * @returns the customer written now, or the first call's customer for the same request; or
 * IDEMPOTENCY_KEY_REUSED when the key's owner used it for another request; or `write`'s failure.
 */
export interface IdempotentCustomerWrites {
  once<E>(claim: IdempotencyClaim, write: (customers: CustomerRepository) => Promise<Result<Customer, E>>): Promise<Result<Customer, E | IdempotencyKeyReusedError>>;
}

/** One-way password hashing with a per-hash random salt (the parameters travel inside the hash string). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** @returns whether `password` matches `hash`; false, never an error, on a mismatch. */
  verify(hash: string, password: string): Promise<boolean>;
}

/** Issues signed access tokens that carry the account id and role. */
export interface TokenIssuer {
  /** @returns the bearer token and the instant it stops being accepted. */
  issue(claims: { readonly customerId: string; readonly role: Role }): Promise<{ accessToken: string; expiresAt: Date }>;
}

/**
 * Counts one attempt of the caller it was made for (bound to the client per request, see
 * src/graphql/security).
 * @returns undefined while attempts are left, else the seconds until the next one is allowed.
 */
export type AttemptThrottle = () => Promise<{ readonly retryAfterSeconds: number } | undefined>;

/** What sign-up and sign-in return: the account and a bearer token for it. */
export interface AuthSession {
  readonly customer: Customer;
  readonly accessToken: string;
  readonly expiresAt: Date;
}
