import { defineEntity, p, raw, type EntityManager } from '@mikro-orm/postgresql';
import { IdempotencyKeyReusedError } from '../errors.ts';
import { IDEMPOTENCY_WINDOW_MS, type IdempotencyClaim } from '../idempotency.ts';
import type { Logger } from '../logger.ts';
import { err, ok, type Result } from '../result.ts';
import { startLoop, type BackgroundWorker } from '../worker-pool.ts';

/**
 * The entity schema of one module's idempotency key table (ADR 0013: one table per module, so the
 * key commits in the owning module's transaction): one claimed key per caller (`identity`, `key`),
 * the fingerprint of the request that claimed it, and the answer it got (JSON, dates as ISO
 * strings; null until stored), written in the transaction of the change.
 */
export function defineIdempotencyKeyEntity(name: string, tableName: string) {
  return defineEntity({
    name,
    tableName,
    properties: {
      identity: p.string().primary(),
      key: p.string().primary(),
      fingerprint: p.string(),
      result: p.json<Record<string, unknown>>().nullable(),
      createdAt: p.datetime(),
    },
  });
}

/** A module's idempotency key entity, as {@link defineIdempotencyKeyEntity} builds it. */
export type IdempotencyKeyEntity = ReturnType<typeof defineIdempotencyKeyEntity>;

/**
 * The migration statements of a table for {@link defineIdempotencyKeyEntity}: the primary key
 * (identity, key) is what racing twins meet on; `created_at` (indexed) is what the 24 h window and
 * the pruner read.
 */
export function idempotencyKeysTableSql(table: string): { readonly up: readonly string[]; readonly down: string } {
  return {
    up: [
      `create table ${table} (
        identity text not null,
        key text not null,
        fingerprint text not null,
        result jsonb null,
        created_at timestamptz(3) not null default now(),
        primary key (identity, key)
      )`,
      `create index ${table}_created_idx on ${table} (created_at)`,
    ],
    down: `drop table if exists ${table}`,
  };
}

/** The database's clock minus the window: every instance judges expiry by the same clock. */
export const expiredBefore = (windowMs: number) => raw('now() - make_interval(secs => ?)', [windowMs / 1_000]);

/** Carries a write's failure out of `em.transactional`, which rolls back on a throw. */
class Rollback<E> extends Error {
  readonly failure: Result<never, E>;
  constructor(failure: Result<never, E>) {
    super('idempotent write failed; rolled back');
    this.failure = failure;
  }
}

/** How a module's answers are kept in its key table and what its writes run on. */
export interface IdempotentWritesOptions<T, Repository> {
  readonly entity: IdempotencyKeyEntity;
  /** The module's repository on the transaction's EntityManager. */
  readonly repository: (em: EntityManager) => Repository;
  /** The answer as stored (JSON-safe; only what may be replayed: never a secret). */
  readonly toStored: (value: T) => Record<string, unknown>;
  /** A stored answer as the value it was (jsonb holds dates as ISO strings and reorders keys). */
  readonly fromStored: (stored: Record<string, unknown>) => T;
  /** How long a key replays, in ms (default {@link IDEMPOTENCY_WINDOW_MS}). */
  readonly windowMs?: number;
}

/**
 * Runs a write once per idempotency claim, in the request's EntityManager (ADR 0013). The claim is
 * `insert … on conflict do nothing` (MikroORM's QueryBuilder) before the write: a racing twin's
 * insert blocks on the primary key until the first transaction ends, then inserts nothing
 * (committed: it replays the stored answer, or IDEMPOTENCY_KEY_REUSED for another fingerprint) or
 * claims the key itself (rolled back: it writes). An expired row of the same key is deleted in the
 * same transaction first, so the window holds even before the pruner has run. A failed write
 * stores nothing: the key stays free.
 */
export class MikroOrmIdempotentWrites<T, Repository> {
  readonly #em: EntityManager;
  readonly #options: IdempotentWritesOptions<T, Repository>;
  constructor(em: EntityManager, options: IdempotentWritesOptions<T, Repository>) {
    this.#em = em;
    this.#options = options;
  }

  async once<E>(claim: IdempotencyClaim, write: (repository: Repository) => Promise<Result<T, E>>): Promise<Result<T, E | IdempotencyKeyReusedError>> {
    // A second round only when the row that beat our claim was gone by the time we read it (it
    // expired and was pruned in between): the key is free again.
    for (let round = 0; round < 2; round++) {
      const written = await this.#claimAndWrite(claim, write);
      if (written !== 'TAKEN') return written;
      const first = await this.#em
        .createQueryBuilder(this.#options.entity)
        .select(['fingerprint', 'result'])
        .where({ identity: claim.identity, key: claim.key })
        .execute<{ fingerprint: string; result: Record<string, unknown> | null } | undefined>('get');
      if (!first?.result) continue;
      return first.fingerprint === claim.fingerprint ? ok(this.#options.fromStored(first.result)) : err(new IdempotencyKeyReusedError());
    }
    throw new Error('idempotency key was taken but no stored answer could be read');
  }

  /** One transaction: drop the key's expired row, claim the key, write, store the answer. */
  async #claimAndWrite<E>(claim: IdempotencyClaim, write: (repository: Repository) => Promise<Result<T, E>>): Promise<Result<T, E> | 'TAKEN'> {
    const { identity, key, fingerprint } = claim;
    const { entity, windowMs = IDEMPOTENCY_WINDOW_MS } = this.#options;
    try {
      return await this.#em.transactional(async (em) => {
        await em.createQueryBuilder(entity).delete().where({ identity, key, createdAt: { $lt: expiredBefore(windowMs) } }).execute();
        const claimed = await em
          .createQueryBuilder(entity)
          .insert({ identity, key, fingerprint, result: null, createdAt: raw('now()') })
          .onConflict(['identity', 'key'])
          .ignore()
          .returning(['key'])
          .execute<{ key: string }[]>('all');
        if (claimed.length === 0) return 'TAKEN' as const;
        const result = await write(this.#options.repository(em));
        if (!result.ok) throw new Rollback(result);
        await em.createQueryBuilder(entity).update({ result: this.#options.toStored(result.value) }).where({ identity, key }).execute();
        return result;
      });
    } catch (error) {
      if (error instanceof Rollback) return (error as Rollback<E>).failure;
      throw error;
    }
  }
}

/** Deletes the keys of `entity`'s table older than the window. @returns how many. */
export async function pruneIdempotencyKeys(em: EntityManager, entity: IdempotencyKeyEntity, windowMs = IDEMPOTENCY_WINDOW_MS): Promise<number> {
  const deleted = await em.createQueryBuilder(entity).delete().where({ createdAt: { $lt: expiredBefore(windowMs) } }).execute<{ affectedRows: number }>('run');
  return deleted.affectedRows;
}

/**
 * Deletes expired keys of `entity`'s table at start-up and then every `intervalMs` (default 10
 * minutes; expiry itself does not wait for it, see {@link MikroOrmIdempotentWrites}). Every
 * instance runs one; two deleting the same rows only wait for each other.
 */
export function startIdempotencyKeyPruner(options: {
  readonly em: () => EntityManager;
  readonly entity: IdempotencyKeyEntity;
  readonly logger: Logger;
  readonly intervalMs?: number;
}): BackgroundWorker {
  const table = options.entity.meta.tableName;
  return startLoop({
    intervalMs: options.intervalMs ?? 10 * 60_000,
    round: async () => {
      const pruned = await pruneIdempotencyKeys(options.em(), options.entity);
      if (pruned > 0) options.logger.info({ pruned, table }, 'expired idempotency keys pruned');
    },
    onError: (error) => options.logger.warn({ err: error, table }, 'pruning idempotency keys failed; retrying next round'),
  });
}
