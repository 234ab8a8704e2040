import { defineIdempotencyKeyEntity } from '../../../platform/db/idempotency-keys.ts';

/** Row shape of `customers_idempotency_keys` (ADR 0013): one claimed key per caller and the answer (the customer) it got. */
export const IdempotencyKeyRecord = defineIdempotencyKeyEntity('CustomersIdempotencyKeyRecord', 'customers_idempotency_keys');
