import { IdempotencyKeyReusedError } from '../../src/platform/errors.ts';
import { IDEMPOTENCY_WINDOW_MS, type IdempotencyClaim } from '../../src/platform/idempotency.ts';
import { err, ok, type Result } from '../../src/platform/result.ts';
import type { Customer } from '../../src/modules/customers/domain/customer.ts';
import type { IdempotentCustomerWrites, CustomerRepository } from '../../src/modules/customers/application/ports.ts';

/** A stored key as the fake keeps it. */
interface StoredKey {
  readonly fingerprint: string;
  readonly customer: Customer;
  readonly at: number;
}

/**
 * In-memory {@link IdempotentCustomerWrites} with the database one's contract: calls with the same
 * (identity, key) run one after another (the primary key's wait), a failed write leaves the key
 * free, a stored key replays its customer for the same fingerprint within `windowMs` of `clock`,
 * and answers IDEMPOTENCY_KEY_REUSED for another. It cannot roll back the repository: the writes
 * under test change nothing when they fail.
 */
export class InMemoryIdempotentCustomerWrites implements IdempotentCustomerWrites {
  readonly keys = new Map<string, StoredKey>();
  /** How many times a write ran (not replayed). */
  writes = 0;
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #customers: CustomerRepository;
  readonly #clock: () => number;
  readonly #windowMs: number;

  constructor(customers: CustomerRepository, options: { clock?: () => number; windowMs?: number } = {}) {
    this.#customers = customers;
    this.#clock = options.clock ?? Date.now;
    this.#windowMs = options.windowMs ?? IDEMPOTENCY_WINDOW_MS;
  }

  once<E>(claim: IdempotencyClaim, write: (customers: CustomerRepository) => Promise<Result<Customer, E>>): Promise<Result<Customer, E | IdempotencyKeyReusedError>> {
    const id = JSON.stringify([claim.identity, claim.key]);
    const turn = (this.#queues.get(id) ?? Promise.resolve()).then(() => this.#run(id, claim, write));
    this.#queues.set(id, turn.catch(() => undefined));
    return turn;
  }

  async #run<E>(id: string, claim: IdempotencyClaim, write: (customers: CustomerRepository) => Promise<Result<Customer, E>>): Promise<Result<Customer, E | IdempotencyKeyReusedError>> {
    const stored = this.keys.get(id);
    if (stored && this.#clock() - stored.at < this.#windowMs) {
      return stored.fingerprint === claim.fingerprint ? ok(stored.customer) : err(new IdempotencyKeyReusedError());
    }
    this.writes += 1;
    const result = await write(this.#customers);
    if (result.ok) this.keys.set(id, { fingerprint: claim.fingerprint, customer: result.value, at: this.#clock() });
    return result;
  }
}
