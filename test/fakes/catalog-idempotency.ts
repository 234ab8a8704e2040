import type { Product } from '../../src/modules/catalog/domain/product.ts';
import type { IdempotentProductWrites, ProductRepository } from '../../src/modules/catalog/application/ports.ts';
import { InMemoryIdempotentWrites } from './idempotency.ts';

/** In-memory {@link IdempotentProductWrites} (see InMemoryIdempotentWrites). */
export class InMemoryIdempotentProductWrites extends InMemoryIdempotentWrites<Product, ProductRepository> implements IdempotentProductWrites {}
