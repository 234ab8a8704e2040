import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * Row shape of `orders_idempotency_keys` (ADR 0013): one claimed key per caller, the fingerprint
 * of the request that claimed it, and the order that request answered (JSON, dates as ISO
 * strings), written in the transaction of the status change, after the statement that moves it.
 */
export const OrdersIdempotencyKeyRecord = defineEntity({
  name: 'OrdersIdempotencyKeyRecord',
  tableName: 'orders_idempotency_keys',
  properties: {
    identity: p.string().primary(),
    key: p.string().primary(),
    fingerprint: p.string(),
    result: p.json<Record<string, unknown>>().nullable(),
    createdAt: p.datetime(),
  },
});
