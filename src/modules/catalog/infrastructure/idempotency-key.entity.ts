import { defineIdempotencyKeyEntity } from '../../../platform/db/idempotency-keys.ts';

/** Row shape of `catalog_idempotency_keys` (ADR 0013): one claimed key per caller and the answer (the product) it got. */
export const IdempotencyKeyRecord = defineIdempotencyKeyEntity('CatalogIdempotencyKeyRecord', 'catalog_idempotency_keys');
