import type { EntityManager } from '@mikro-orm/postgresql';
import { MikroOrmIdempotentWrites, pruneIdempotencyKeys as pruneKeys, startIdempotencyKeyPruner as startPruner } from '../../../platform/db/idempotency-keys.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { BackgroundWorker } from '../../../platform/worker-pool.ts';
import type { Product } from '../domain/product.ts';
import type { IdempotentProductWrites, ProductRepository } from '../application/ports.ts';
import { IdempotencyKeyRecord } from './idempotency-key.entity.ts';
import { MikroOrmProductRepository } from './mikro-orm-product-repository.ts';

/** A stored answer as the product it was, field by field (jsonb holds the dates as ISO strings and reorders keys). */
function productOf(stored: Record<string, unknown>): Product {
  const { id, sku, name, description, priceMinor, stock, active } = stored as unknown as Product;
  return { id, sku, name, description, priceMinor, stock, active, createdAt: new Date(stored.createdAt as string), updatedAt: new Date(stored.updatedAt as string) };
}

/** {@link IdempotentProductWrites} on `catalog_idempotency_keys`, in the request's EntityManager (ADR 0013; see MikroOrmIdempotentWrites). */
export class MikroOrmIdempotentProductWrites extends MikroOrmIdempotentWrites<Product, ProductRepository> implements IdempotentProductWrites {
  /** `windowMs`: how long a key replays, in ms (default 24 h). */
  constructor(em: EntityManager, windowMs?: number) {
    super(em, {
      entity: IdempotencyKeyRecord,
      repository: (txEm) => new MikroOrmProductRepository(txEm),
      toStored: (product) => ({ ...product, createdAt: product.createdAt.toISOString(), updatedAt: product.updatedAt.toISOString() }),
      fromStored: productOf,
      ...(windowMs === undefined ? {} : { windowMs }),
    });
  }
}

/** Deletes the catalog's keys older than the window. @returns how many. */
export const pruneIdempotencyKeys = (em: EntityManager, windowMs?: number): Promise<number> => pruneKeys(em, IdempotencyKeyRecord, windowMs);

/** The catalog's key pruner (see platform/db/idempotency-keys.ts). */
export const startIdempotencyKeyPruner = (options: { readonly em: () => EntityManager; readonly logger: Logger; readonly intervalMs?: number }): BackgroundWorker =>
  startPruner({ ...options, entity: IdempotencyKeyRecord });
