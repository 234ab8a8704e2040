import { raw, type EntityManager } from '@mikro-orm/postgresql';
import { IdempotencyKeyReusedError } from '../../../platform/errors.ts';
import { IDEMPOTENCY_WINDOW_MS, type IdempotencyClaim } from '../../../platform/idempotency.ts';
import type { Logger } from '../../../platform/logger.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { startLoop, type BackgroundWorker } from '../../../platform/worker-pool.ts';
import type { Customer } from '../domain/customer.ts';
import type { CustomerRepository, IdempotentCustomerWrites } from '../application/ports.ts';
import { IdempotencyKeyRecord } from './idempotency-key.entity.ts';
import { MikroOrmCustomerRepository } from './mikro-orm-customer-repository.ts';

/** Carries a write's failure out of `em.transactional`, which rolls back on a throw. */
class Rollback<E> extends Error {
  readonly failure: Result<never, E>;
  constructor(failure: Result<never, E>) {
    super('idempotent write failed; rolled back');
    this.failure = failure;
  }
}

/** The database's clock minus the window: every instance judges expiry by the same clock. */
const expiredBefore = (windowMs: number) => raw('now() - make_interval(secs => ?)', [windowMs / 1_000]);

/** A stored answer as the customer it was (jsonb holds the dates as ISO strings and reorders keys). */
function customerOf(stored: Record<string, unknown>): Customer {
  const { id, email, name, role, tier } = stored as unknown as Customer;
  return { id, email, name, role, tier, createdAt: new Date(stored.createdAt as string), updatedAt: new Date(stored.updatedAt as string) };
}

/**
 * {@link IdempotentCustomerWrites} on `customers_idempotency_keys`, in the request's
 * EntityManager; the catalog's rule (ADR 0013): the claim is `insert … on conflict do nothing`
 * before the write, so a racing twin blocks on the primary key until the first transaction ends,
 * then replays (committed) or claims the key itself (rolled back). An expired row of the same key
 * is deleted in the same transaction first.
 */
export class MikroOrmIdempotentCustomerWrites implements IdempotentCustomerWrites {
  readonly #em: EntityManager;
  readonly #windowMs: number;
  /** `windowMs`: how long a key replays, in ms (default {@link IDEMPOTENCY_WINDOW_MS}). */
  constructor(em: EntityManager, windowMs = IDEMPOTENCY_WINDOW_MS) {
    this.#em = em;
    this.#windowMs = windowMs;
  }

  async once<E>(claim: IdempotencyClaim, write: (customers: CustomerRepository) => Promise<Result<Customer, E>>): Promise<Result<Customer, E | IdempotencyKeyReusedError>> {
    // A second round only when the row that beat our claim was gone by the time we read it (it
    // expired and was pruned in between): the key is free again.
    for (let round = 0; round < 2; round++) {
      const written = await this.#claimAndWrite(claim, write);
      if (written !== 'TAKEN') return written;
      const first = await this.#em
        .createQueryBuilder(IdempotencyKeyRecord)
        .select(['fingerprint', 'result'])
        .where({ identity: claim.identity, key: claim.key })
        .execute<{ fingerprint: string; result: Record<string, unknown> | null } | undefined>('get');
      if (!first?.result) continue;
      return first.fingerprint === claim.fingerprint ? ok(customerOf(first.result)) : err(new IdempotencyKeyReusedError());
    }
    throw new Error('idempotency key was taken but no stored answer could be read');
  }

  /** One transaction: drop the key's expired row, claim the key, write, store the answer. */
  async #claimAndWrite<E>(claim: IdempotencyClaim, write: (customers: CustomerRepository) => Promise<Result<Customer, E>>): Promise<Result<Customer, E> | 'TAKEN'> {
    const { identity, key, fingerprint } = claim;
    try {
      return await this.#em.transactional(async (em) => {
        await em.createQueryBuilder(IdempotencyKeyRecord).delete().where({ identity, key, createdAt: { $lt: expiredBefore(this.#windowMs) } }).execute();
        const claimed = await em
          .createQueryBuilder(IdempotencyKeyRecord)
          .insert({ identity, key, fingerprint, result: null, createdAt: raw('now()') })
          .onConflict(['identity', 'key'])
          .ignore()
          .returning(['key'])
          .execute<{ key: string }[]>('all');
        if (claimed.length === 0) return 'TAKEN' as const;
        const result = await write(new MikroOrmCustomerRepository(em));
        if (!result.ok) throw new Rollback(result);
        const { id, email, name, role, tier, createdAt, updatedAt } = result.value;
        // Field by field: only the account's public fields are stored, never a hash or a token.
        const stored = { id, email, name, role, tier, createdAt: createdAt.toISOString(), updatedAt: updatedAt.toISOString() };
        await em.createQueryBuilder(IdempotencyKeyRecord).update({ result: stored }).where({ identity, key }).execute();
        return result;
      });
    } catch (error) {
      if (error instanceof Rollback) return (error as Rollback<E>).failure;
      throw error;
    }
  }
}

/** Deletes the keys older than the window. @returns how many. */
export async function pruneIdempotencyKeys(em: EntityManager, windowMs = IDEMPOTENCY_WINDOW_MS): Promise<number> {
  const deleted = await em.createQueryBuilder(IdempotencyKeyRecord).delete().where({ createdAt: { $lt: expiredBefore(windowMs) } }).execute<{ affectedRows: number }>('run');
  return deleted.affectedRows;
}

/**
 * Deletes expired idempotency keys at start-up and then every `intervalMs` (default 10 minutes;
 * expiry itself does not wait for it). Every instance runs one; two deleting the same rows only
 * wait for each other.
 */
export function startIdempotencyKeyPruner(options: { readonly em: () => EntityManager; readonly logger: Logger; readonly intervalMs?: number }): BackgroundWorker {
  return startLoop({
    intervalMs: options.intervalMs ?? 10 * 60_000,
    round: async () => {
      const pruned = await pruneIdempotencyKeys(options.em());
      if (pruned > 0) options.logger.info({ pruned }, 'expired customers idempotency keys pruned');
    },
    onError: (error) => options.logger.warn({ err: error }, 'pruning customers idempotency keys failed; retrying next round'),
  });
}
