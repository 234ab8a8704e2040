import type { EntityManager } from '@mikro-orm/postgresql';
import { inertChangeFeed, type ChangeFeed } from '../../platform/change-feed.ts';
import type { OpContext } from '../../platform/op-context.ts';
import type { Result } from '../../platform/result.ts';
import type { ModuleDescriptor } from '../module-descriptor.ts';
import { createCatalogApi, type CatalogApi } from './application/api.ts';
import type { StockReservations } from './application/ports.ts';
import type { Product } from './domain/product.ts';
import { registerCatalogGraphQL } from './graphql/index.ts';
import { IdempotencyKeyRecord } from './infrastructure/idempotency-key.entity.ts';
import { MikroOrmIdempotentProductWrites, startIdempotencyKeyPruner } from './infrastructure/mikro-orm-idempotent-writes.ts';
import { MikroOrmProductRepository, SqlStockReservations } from './infrastructure/mikro-orm-product-repository.ts';
import { Migration20261121000200Catalog } from './infrastructure/migrations/Migration20261121000200Catalog.ts';
import { Migration20261204000300CatalogIdempotencyKeys } from './infrastructure/migrations/Migration20261204000300CatalogIdempotencyKeys.ts';
import { ProductRecord } from './infrastructure/product.entity.ts';

/** MikroORM entity schemas of the catalog (also for tooling: migrations, seeding). */
export const catalogEntities = [ProductRecord, IdempotencyKeyRecord] as const;
/** The catalog's migrations, named as they are recorded in `mikro_orm_migrations`. */
export const catalogMigrations = [
  { name: 'Migration20261121000200Catalog', class: Migration20261121000200Catalog },
  { name: 'Migration20261204000300CatalogIdempotencyKeys', class: Migration20261204000300CatalogIdempotencyKeys },
] as const;

/** The catalog descriptor, plus what the orders module needs from it beyond its API. */
export interface CatalogModule extends ModuleDescriptor<'catalog', CatalogApi> {
  /** Conditional stock updates inside the caller's transaction (`em` is the transaction's). */
  stockReservations(em: EntityManager): StockReservations;
}

/**
 * The catalog's API whose writes, once committed (the use case has returned its product), publish
 * the product on the change feed: every instance's response cache forgets it (ADR 0015). A replay
 * of an idempotency key publishes again, which costs one needless invalidation.
 */
function publishingWrites(api: CatalogApi, changes: ChangeFeed): CatalogApi {
  const published =
    <I, E>(write: (op: OpContext, input: I) => Promise<Result<Product, E>>) =>
    async (op: OpContext, input: I): Promise<Result<Product, E>> => {
      const result = await write(op, input);
      if (result.ok) changes.publish([{ kind: 'product', productId: result.value.id }]);
      return result;
    };
  return { ...api, createProduct: published(api.createProduct), updateProduct: published(api.updateProduct), adjustStock: published(api.adjustStock) };
}

/**
 * The catalog module: products, prices and stock; its background worker prunes expired
 * idempotency keys (ADR 0013). Needs the store currency (ISO 4217) for its GraphQL money fields,
 * and the change feed its committed writes are published on (default: none).
 */
export function createCatalogModule(deps: { readonly currency: string; readonly changes?: ChangeFeed }): CatalogModule {
  const changes = deps.changes ?? inertChangeFeed;
  return {
    name: 'catalog',
    entities: catalogEntities,
    migrations: catalogMigrations,
    forRequest: (scope) => publishingWrites(createCatalogApi({ products: new MikroOrmProductRepository(scope.em), writes: new MikroOrmIdempotentProductWrites(scope.em) }), changes),
    graphql: (builder, refs) => registerCatalogGraphQL(builder, refs.common, { currency: deps.currency }),
    stockReservations: (em) => new SqlStockReservations(em),
    workers: (runtime) => [startIdempotencyKeyPruner({ em: runtime.fork, logger: runtime.logger.child({ component: 'catalog-idempotency-pruner' }) })],
  };
}
