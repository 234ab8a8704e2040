import { IdempotencyKeyReusedError } from '../../src/platform/errors.ts';
import { IDEMPOTENCY_WINDOW_MS, type IdempotencyClaim } from '../../src/platform/idempotency.ts';
import { err, ok, type Result } from '../../src/platform/result.ts';
import type { Product } from '../../src/modules/catalog/domain/product.ts';
import type { IdempotentProductWrites, ProductRepository } from '../../src/modules/catalog/application/ports.ts';

/** A stored key as the fake keeps it. */
interface StoredKey {
  readonly fingerprint: string;
  readonly product: Product;
  readonly at: number;
}

/**
 * In-memory {@link IdempotentProductWrites} with the database one's contract: calls with the same
 * (identity, key) run one after another (the primary key's wait), a failed write leaves the key
 * free, a stored key replays its product for the same fingerprint within `windowMs` of `clock`,
 * and answers IDEMPOTENCY_KEY_REUSED for another. It cannot roll back the repository: the writes
 * under test change nothing when they fail.
 */
export class InMemoryIdempotentProductWrites implements IdempotentProductWrites {
  readonly keys = new Map<string, StoredKey>();
  /** How many times a write ran (not replayed). */
  writes = 0;
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #products: ProductRepository;
  readonly #clock: () => number;
  readonly #windowMs: number;

  constructor(products: ProductRepository, options: { clock?: () => number; windowMs?: number } = {}) {
    this.#products = products;
    this.#clock = options.clock ?? Date.now;
    this.#windowMs = options.windowMs ?? IDEMPOTENCY_WINDOW_MS;
  }

  once<E>(claim: IdempotencyClaim, write: (products: ProductRepository) => Promise<Result<Product, E>>): Promise<Result<Product, E | IdempotencyKeyReusedError>> {
    const id = JSON.stringify([claim.identity, claim.key]);
    const turn = (this.#queues.get(id) ?? Promise.resolve()).then(() => this.#run(id, claim, write));
    this.#queues.set(id, turn.catch(() => undefined));
    return turn;
  }

  async #run<E>(id: string, claim: IdempotencyClaim, write: (products: ProductRepository) => Promise<Result<Product, E>>): Promise<Result<Product, E | IdempotencyKeyReusedError>> {
    const stored = this.keys.get(id);
    if (stored && this.#clock() - stored.at < this.#windowMs) {
      return stored.fingerprint === claim.fingerprint ? ok(stored.product) : err(new IdempotencyKeyReusedError());
    }
    this.writes += 1;
    const result = await write(this.#products);
    if (result.ok) this.keys.set(id, { fingerprint: claim.fingerprint, product: result.value, at: this.#clock() });
    return result;
  }
}
