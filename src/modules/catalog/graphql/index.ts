import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import { registerProductMutations } from './product.mutations.ts';
import { registerProduct, registerProductQueries } from './product.type.ts';

/**
 * Registers the catalog's GraphQL surface: Product (a Relay node) with its queries (`product`,
 * `products`) and admin mutations (`createProduct`, `updateProduct`, `adjustStock`). `currency` is
 * the store's ISO 4217 code, for prices.
 * @returns the Product ref, for fields other modules add (order lines).
 */
export function registerCatalogGraphQL(builder: Builder, common: CommonRefs, options: { currency: string }) {
  const { currency } = options;
  const Product = registerProduct(builder, common, currency);
  registerProductQueries(builder, common, Product, currency);
  registerProductMutations(builder, Product, currency);
  return { Product };
}

/** The refs the catalog offers other modules' GraphQL registrations. */
export type CatalogRefs = ReturnType<typeof registerCatalogGraphQL>;
