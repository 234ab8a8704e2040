import { defineIdempotencyKeyEntity } from '../../../platform/db/idempotency-keys.ts';

/** Row shape of `orders_idempotency_keys` (ADR 0013): one claimed key per caller and the answer (the order) it got. */
export const OrdersIdempotencyKeyRecord = defineIdempotencyKeyEntity('OrdersIdempotencyKeyRecord', 'orders_idempotency_keys');
