import type { FieldIssue } from '../../../platform/errors.ts';
import { textIssues } from '../../../platform/text.ts';

/** A product of the catalog. Prices are integer minor units of the store currency. */
export interface Product {
  readonly id: string;
  /** Stock-keeping unit, unique, upper-case letters, digits and dashes. */
  readonly sku: string;
  readonly name: string;
  readonly description: string;
  /** Unit price in minor units (cents for USD). */
  readonly priceMinor: number;
  /** Units on hand and not reserved by an order; never negative. */
  readonly stock: number;
  /** Inactive products stay readable (past orders point at them) but cannot be ordered. */
  readonly active: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * Catalog limits. Chosen for the demo store; prices up to 1,000,000.00 keep totals exact in JS
 * numbers. Lengths count Unicode code points. A search matches part of a name or SKU, so one longer
 * than the longest name can match nothing: it is refused rather than sent to the database.
 */
export const PRODUCT_LIMITS = {
  skuPattern: /^[A-Z0-9][A-Z0-9-]{1,39}$/,
  nameMaxLength: 200,
  descriptionMaxLength: 2_000,
  searchMaxLength: 200,
  maxPriceMinor: 100_000_000,
  maxStock: 1_000_000,
} as const;

/** The editable fields of a product, as checked by {@link checkProductFields}. */
export interface ProductFields {
  readonly sku?: string;
  readonly name?: string;
  readonly description?: string;
  readonly priceMinor?: number;
  readonly stock?: number;
}

/**
 * Returns every rule the given fields break (empty when valid). Only present fields are checked.
 * Names are one line; descriptions may hold line breaks; neither any other control character.
 */
export function checkProductFields(fields: ProductFields): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (fields.sku !== undefined && !PRODUCT_LIMITS.skuPattern.test(fields.sku)) {
    issues.push({ path: ['sku'], message: 'must be 2–40 upper-case letters, digits or dashes' });
  }
  if (fields.name !== undefined) issues.push(...textIssues(fields.name.trim(), ['name'], { minLength: 1, maxLength: PRODUCT_LIMITS.nameMaxLength }));
  if (fields.description !== undefined) {
    issues.push(...textIssues(fields.description, ['description'], { maxLength: PRODUCT_LIMITS.descriptionMaxLength, multiline: true }));
  }
  if (
    fields.priceMinor !== undefined &&
    (!Number.isSafeInteger(fields.priceMinor) || fields.priceMinor <= 0 || fields.priceMinor > PRODUCT_LIMITS.maxPriceMinor)
  ) {
    issues.push({ path: ['price'], message: 'must be greater than 0 and at most 1000000.00' });
  }
  if (fields.stock !== undefined && (!Number.isSafeInteger(fields.stock) || fields.stock < 0 || fields.stock > PRODUCT_LIMITS.maxStock)) {
    issues.push({ path: ['stock'], message: `must be an integer between 0 and ${PRODUCT_LIMITS.maxStock}` });
  }
  return issues;
}

/**
 * Applies a stock adjustment (a delivery, a count correction): the new level, or undefined when it
 * would go below zero or above the limit.
 */
export function adjustedStock(current: number, delta: number): number | undefined {
  const next = current + delta;
  return Number.isSafeInteger(delta) && next >= 0 && next <= PRODUCT_LIMITS.maxStock ? next : undefined;
}

/**
 * Returns the issues of a catalog search text (empty when valid): at most
 * {@link PRODUCT_LIMITS.searchMaxLength} characters on one line. Reported at `filter.search`.
 */
export const checkSearch = (search: string): FieldIssue[] =>
  textIssues(search, ['filter', 'search'], { maxLength: PRODUCT_LIMITS.searchMaxLength });
