import { createAdjustStock } from './adjust-stock.ts';
import { createCreateProduct } from './create-product.ts';
import { createGetProducts } from './get-products.ts';
import { createListProducts } from './list-products.ts';
import type { IdempotentProductWrites, ProductRepository } from './ports.ts';
import { createUpdateProduct } from './update-product.ts';

/**
 * The catalog's use cases over one operation's repository (and its idempotent writes, ADR 0013);
 * each takes the operation context first.
 */
export function createCatalogApi(deps: { readonly products: ProductRepository; readonly writes: IdempotentProductWrites }) {
  return {
    getProducts: createGetProducts(deps),
    listProducts: createListProducts(deps),
    createProduct: createCreateProduct(deps),
    updateProduct: createUpdateProduct(deps),
    adjustStock: createAdjustStock(deps),
  };
}

/** What the catalog offers for one operation (GraphQL resolvers, other modules). */
export type CatalogApi = ReturnType<typeof createCatalogApi>;
