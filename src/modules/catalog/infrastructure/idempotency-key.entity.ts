import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * Row shape of `catalog_idempotency_keys` (ADR 0013): one claimed key per caller, the fingerprint
 * of the request that claimed it, and the product that request answered (JSON, dates as ISO
 * strings), written in the transaction of the change.
 */
export const IdempotencyKeyRecord = defineEntity({
  name: 'CatalogIdempotencyKeyRecord',
  tableName: 'catalog_idempotency_keys',
  properties: {
    identity: p.string().primary(),
    key: p.string().primary(),
    fingerprint: p.string(),
    result: p.json<Record<string, unknown>>().nullable(),
    createdAt: p.datetime(),
  },
});
