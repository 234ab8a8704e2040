// The catalog's contract for other modules: types, use-case signatures and errors. Wiring (entity
// schemas, repositories, GraphQL registration) is module.ts, for the composition root only.
export type { Product } from './domain/product.ts';
export type { ProductFilter, ProductOrder, StockLevel, StockLine, StockReservations, StockReserved } from './application/ports.ts';
export type { CatalogApi } from './application/api.ts';
export type { GetProducts } from './application/get-products.ts';
