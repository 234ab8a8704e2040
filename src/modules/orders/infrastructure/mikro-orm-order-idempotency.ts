import { raw, type EntityManager } from '@mikro-orm/postgresql';
import { IDEMPOTENCY_WINDOW_MS, type IdempotencyClaim } from '../../../platform/idempotency.ts';
import type { Logger } from '../../../platform/logger.ts';
import { startLoop, type BackgroundWorker } from '../../../platform/worker-pool.ts';
import type { Order } from '../domain/order.ts';
import type { StoredAnswer } from '../application/ports.ts';
import { OrdersIdempotencyKeyRecord } from './idempotency-key.entity.ts';

/** The database's clock minus the window: every instance judges expiry by the same clock. */
const expiredBefore = (windowMs: number) => raw('now() - make_interval(secs => ?)', [windowMs / 1_000]);

/** A stored answer as the order it was (jsonb holds the dates as ISO strings and reorders keys). */
function orderOf(stored: Record<string, unknown>): Order {
  const o = stored as unknown as Order;
  return {
    id: o.id,
    number: o.number,
    customerId: o.customerId,
    idempotencyKey: o.idempotencyKey,
    requestHash: o.requestHash,
    status: o.status,
    currency: o.currency,
    subtotalMinor: o.subtotalMinor,
    discountPercent: o.discountPercent,
    discountMinor: o.discountMinor,
    totalMinor: o.totalMinor,
    version: o.version,
    createdAt: new Date(stored.createdAt as string),
    updatedAt: new Date(stored.updatedAt as string),
  };
}

/** The unexpired key of (identity, key) with its first answer; a read, so it may run anywhere (ADR 0012 counts writes). */
export async function findStoredAnswer(em: EntityManager, claim: Pick<IdempotencyClaim, 'identity' | 'key'>, windowMs = IDEMPOTENCY_WINDOW_MS): Promise<StoredAnswer | undefined> {
  const row = await em
    .createQueryBuilder(OrdersIdempotencyKeyRecord)
    .select(['fingerprint', 'result'])
    .where({ identity: claim.identity, key: claim.key, createdAt: { $gte: expiredBefore(windowMs) } })
    .execute<{ fingerprint: string; result: Record<string, unknown> | null } | undefined>('get');
  return row?.result ? { fingerprint: row.fingerprint, order: orderOf(row.result) } : undefined;
}

/**
 * Claims the key with its answer in `em`'s transaction: deletes the key's expired row, then
 * `insert … on conflict (identity, key) do nothing` (MikroORM's QueryBuilder). A transaction
 * holding the same key uncommitted makes the insert wait for it.
 * @returns false when the key is taken (the caller rolls back and reads the stored answer).
 */
export async function claimWithAnswer(em: EntityManager, claim: IdempotencyClaim, answer: Order, windowMs = IDEMPOTENCY_WINDOW_MS): Promise<boolean> {
  const { identity, key, fingerprint } = claim;
  await em.createQueryBuilder(OrdersIdempotencyKeyRecord).delete().where({ identity, key, createdAt: { $lt: expiredBefore(windowMs) } }).execute();
  const result = { ...answer, createdAt: answer.createdAt.toISOString(), updatedAt: answer.updatedAt.toISOString() };
  const claimed = await em
    .createQueryBuilder(OrdersIdempotencyKeyRecord)
    .insert({ identity, key, fingerprint, result, createdAt: raw('now()') })
    .onConflict(['identity', 'key'])
    .ignore()
    .returning(['key'])
    .execute<{ key: string }[]>('all');
  return claimed.length > 0;
}

/** Deletes the keys older than the window. @returns how many. */
export async function pruneOrderIdempotencyKeys(em: EntityManager, windowMs = IDEMPOTENCY_WINDOW_MS): Promise<number> {
  const deleted = await em.createQueryBuilder(OrdersIdempotencyKeyRecord).delete().where({ createdAt: { $lt: expiredBefore(windowMs) } }).execute<{ affectedRows: number }>('run');
  return deleted.affectedRows;
}

/**
 * Deletes expired order idempotency keys at start-up and then every `intervalMs` (default 10
 * minutes; expiry itself does not wait for it: reads ignore expired rows, claims delete them).
 */
export function startOrderIdempotencyKeyPruner(options: { readonly em: () => EntityManager; readonly logger: Logger; readonly intervalMs?: number }): BackgroundWorker {
  return startLoop({
    intervalMs: options.intervalMs ?? 10 * 60_000,
    round: async () => {
      const pruned = await pruneOrderIdempotencyKeys(options.em());
      if (pruned > 0) options.logger.info({ pruned }, 'expired order idempotency keys pruned');
    },
    onError: (error) => options.logger.warn({ err: error }, 'pruning order idempotency keys failed; retrying next round'),
  });
}
