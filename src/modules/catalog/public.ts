import type { EntityManager } from '@mikro-orm/postgresql';
import { createAdjustStock } from './application/adjust-stock.ts';
import { createCreateProduct } from './application/create-product.ts';
import { createGetProducts } from './application/get-products.ts';
import { createListProducts } from './application/list-products.ts';
import { createUpdateProduct } from './application/update-product.ts';
import { MikroOrmProductRepository, SqlStockReservations } from './infrastructure/mikro-orm-product-repository.ts';
import { ProductRecord } from './infrastructure/product.entity.ts';

export type { Product } from './domain/product.ts';
export type { StockLine, StockReservations } from './application/ports.ts';
export { registerCatalogGraphQL, type CatalogRefs } from './graphql/product.ts';

/** MikroORM entity schemas of the catalog, for the ORM set-up. */
export const catalogEntities = [ProductRecord] as const;

/**
 * The catalog's use cases over one EntityManager fork (one request, or one transaction).
 * Each takes the operation context first.
 */
export function createCatalogUseCases(em: EntityManager) {
  const products = new MikroOrmProductRepository(em);
  return {
    getProducts: createGetProducts({ products }),
    listProducts: createListProducts({ products }),
    createProduct: createCreateProduct({ products }),
    updateProduct: createUpdateProduct({ products }),
    adjustStock: createAdjustStock({ products }),
  };
}
export type CatalogUseCases = ReturnType<typeof createCatalogUseCases>;

/** Stock reservations bound to a transaction's EntityManager (used by the orders module). */
export const createStockReservations = (em: EntityManager): SqlStockReservations => new SqlStockReservations(em);
