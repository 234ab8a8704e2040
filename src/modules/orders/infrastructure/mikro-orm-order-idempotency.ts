import { raw, type EntityManager } from '@mikro-orm/postgresql';
import { IDEMPOTENCY_WINDOW_MS, type IdempotencyClaim } from '../../../platform/idempotency.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { BackgroundWorker } from '../../../platform/worker-pool.ts';
import { expiredBefore, pruneIdempotencyKeys as pruneKeys, startIdempotencyKeyPruner as startPruner } from '../../../platform/db/idempotency-keys.ts';
import type { Order } from '../domain/order.ts';
import type { StoredAnswer } from '../application/ports.ts';
import { OrdersIdempotencyKeyRecord } from './idempotency-key.entity.ts';

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

/** Deletes the orders module's keys older than the window. @returns how many. */
export const pruneOrderIdempotencyKeys = (em: EntityManager, windowMs?: number): Promise<number> => pruneKeys(em, OrdersIdempotencyKeyRecord, windowMs);

/** The orders module's key pruner (see platform/db/idempotency-keys.ts; reads ignore expired rows, claims delete them). */
export const startOrderIdempotencyKeyPruner = (options: { readonly em: () => EntityManager; readonly logger: Logger; readonly intervalMs?: number }): BackgroundWorker =>
  startPruner({ ...options, entity: OrdersIdempotencyKeyRecord });
