import type { Page, PageWindow } from '../../../platform/pagination.ts';
import type { Result } from '../../../platform/result.ts';
import type { IdempotencyKeyReusedError, ValidationError } from '../../../platform/errors.ts';
import type { IdempotencyClaim } from '../../../platform/idempotency.ts';
import type { Product } from '../domain/product.ts';

/** Which products a list shows. */
export interface ProductFilter {
  /** Case-insensitive substring of name or SKU. */
  readonly search?: string;
  /** Undefined: both. Non-admins always get `true`. */
  readonly active?: boolean;
  readonly inStock?: boolean;
  readonly minPriceMinor?: number;
  readonly maxPriceMinor?: number;
}

export type ProductOrderField = 'NAME' | 'PRICE' | 'CREATED_AT';
export interface ProductOrder {
  readonly field: ProductOrderField;
  readonly direction: 'ASC' | 'DESC';
}

/** Editable fields of a product (stock changes go through adjustStock). */
export type ProductChanges = Partial<Pick<Product, 'name' | 'description' | 'priceMinor' | 'active'>>;

/** Persistence of products. Implementations return products in no particular order unless stated. */
export interface ProductRepository {
  findByIds(ids: readonly string[]): Promise<Product[]>;
  findPage(filter: ProductFilter, order: ProductOrder, window: PageWindow): Promise<Result<Page<Product>, ValidationError>>;
  /** @returns false when the SKU is taken. */
  insert(product: Product): Promise<boolean>;
  /**
   * Writes only the given fields (and updatedAt), so concurrent edits of different fields both
   * survive. @returns the product as stored, or undefined when it does not exist.
   */
  update(id: string, changes: ProductChanges, updatedAt: Date): Promise<Product | undefined>;
  /**
   * Atomically adds `delta` to the stock when the result stays within 0..max.
   * @returns the updated product, 'NOT_FOUND', or 'OUT_OF_RANGE'.
   */
  adjustStock(id: string, delta: number, max: number): Promise<Product | 'NOT_FOUND' | 'OUT_OF_RANGE'>;
}

/**
 * Runs a product write at most once per idempotency claim within the window (ADR 0013).
 * `write` gets a repository inside one transaction that also claims the key and stores the
 * product it answers, so the key and the change commit together or not at all; a failure it
 * returns rolls both back (the key stays free, a retry runs again). A racing twin with the same
 * claim waits for the first to commit, then answers its stored product without writing.
 * @returns the product written now, or the first call's product for the same request; or
 * IDEMPOTENCY_KEY_REUSED when the caller used the key for another request; or `write`'s failure.
 */
export interface IdempotentProductWrites {
  once<E>(claim: IdempotencyClaim, write: (products: ProductRepository) => Promise<Result<Product, E>>): Promise<Result<Product, E | IdempotencyKeyReusedError>>;
}

/** One line of a stock reservation. */
export interface StockLine {
  readonly productId: string;
  readonly quantity: number;
}

/** A product's stock after a reservation, and when it changed. */
export interface StockLevel {
  readonly productId: string;
  readonly stock: number;
  readonly updatedAt: Date;
}

/** What a reservation did: the first product id that lacked stock, or every product's new level. */
export type StockReserved = { readonly short: string } | { readonly levels: readonly StockLevel[] };

/**
 * Stock operations that run inside the caller's transaction (the orders module's unit of work).
 * Reservations never drive stock below zero, also under concurrency.
 */
export interface StockReservations {
  /** Takes every line or none. @returns the first product id that lacks stock, or undefined when all were reserved. */
  reserve(lines: readonly StockLine[]): Promise<string | undefined>;
  /**
   * Like {@link reserve}; when every line was reserved, also answers each product's stock and
   * `updatedAt` after it, so a response that shows the products needs no second read.
   */
  reserveWithLevels(lines: readonly StockLine[]): Promise<StockReserved>;
  /** Puts reserved units back (a failed payment, a cancellation). */
  release(lines: readonly StockLine[]): Promise<void>;
}
