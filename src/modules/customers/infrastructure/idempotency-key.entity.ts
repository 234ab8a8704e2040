import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * Row shape of `customers_idempotency_keys` (ADR 0013): one claimed key per owner (a caller, or
 * for signUp the e-mail being registered), the fingerprint of the request that claimed it, and the
 * customer that request answered (JSON, dates as ISO strings; never a token or a password hash),
 * written in the transaction of the change.
 */
export const IdempotencyKeyRecord = defineEntity({
  name: 'CustomersIdempotencyKeyRecord',
  tableName: 'customers_idempotency_keys',
  properties: {
    identity: p.string().primary(),
    key: p.string().primary(),
    fingerprint: p.string(),
    result: p.json<Record<string, unknown>>().nullable(),
    createdAt: p.datetime(),
  },
});
