import { IdempotencyKeyReusedError } from '../../src/platform/errors.ts';
import { IDEMPOTENCY_WINDOW_MS, type IdempotencyClaim } from '../../src/platform/idempotency.ts';
import { err, ok, type Result } from '../../src/platform/result.ts';

/** A stored key as the fake keeps it: the fingerprint, the answer, when (ms, the fake's clock). */
export interface StoredKey<T> {
  readonly fingerprint: string;
  readonly value: T;
  readonly at: number;
}

/**
 * In-memory idempotent writes with the database one's contract (platform/db/idempotency-keys.ts):
 * calls with the same (identity, key) run one after another (the primary key's wait), a failed
 * write leaves the key free, a stored key replays its answer for the same fingerprint within
 * `windowMs` of `clock`, and answers IDEMPOTENCY_KEY_REUSED for another. It cannot roll back the
 * repository: the writes under test change nothing when they fail.
 */
export class InMemoryIdempotentWrites<T, Repository> {
  readonly keys = new Map<string, StoredKey<T>>();
  /** How many times a write ran (not replayed). */
  writes = 0;
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #repository: Repository;
  readonly #clock: () => number;
  readonly #windowMs: number;

  constructor(repository: Repository, options: { clock?: () => number; windowMs?: number } = {}) {
    this.#repository = repository;
    this.#clock = options.clock ?? Date.now;
    this.#windowMs = options.windowMs ?? IDEMPOTENCY_WINDOW_MS;
  }

  once<E>(claim: IdempotencyClaim, write: (repository: Repository) => Promise<Result<T, E>>): Promise<Result<T, E | IdempotencyKeyReusedError>> {
    const id = JSON.stringify([claim.identity, claim.key]);
    const turn = (this.#queues.get(id) ?? Promise.resolve()).then(() => this.#run(id, claim, write));
    this.#queues.set(id, turn.catch(() => undefined));
    return turn;
  }

  async #run<E>(id: string, claim: IdempotencyClaim, write: (repository: Repository) => Promise<Result<T, E>>): Promise<Result<T, E | IdempotencyKeyReusedError>> {
    const stored = this.keys.get(id);
    if (stored && this.#clock() - stored.at < this.#windowMs) {
      return stored.fingerprint === claim.fingerprint ? ok(stored.value) : err(new IdempotencyKeyReusedError());
    }
    this.writes += 1;
    const result = await write(this.#repository);
    if (result.ok) this.keys.set(id, { fingerprint: claim.fingerprint, value: result.value, at: this.#clock() });
    return result;
  }
}
