import { checkAdmin } from '../../../platform/authz.ts';
import { ValidationError, type ForbiddenError, type IdempotencyKeyReusedError, type UnauthenticatedError } from '../../../platform/errors.ts';
import { claimOf, idempotencyKeyIssues } from '../../../platform/idempotency.ts';
import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { checkProductFields, type Product } from '../domain/product.ts';
import type { IdempotentProductWrites, ProductRepository } from './ports.ts';

export interface CreateProductInput {
  readonly sku: string;
  readonly name: string;
  readonly description?: string;
  readonly priceMinor: number;
  readonly stock: number;
  readonly active?: boolean;
  /** Optional: a retry with the same key and input answers the first product without creating another (ADR 0013). */
  readonly idempotencyKey?: string;
}

/**
 * Adds a product (admin only). With an idempotency key, a retry (also a racing one) within 24 h
 * answers the product the first call created instead of VALIDATION_FAILED for its own SKU.
 * @returns the product; VALIDATION_FAILED (including a taken SKU), FORBIDDEN, UNAUTHENTICATED or
 * IDEMPOTENCY_KEY_REUSED (the key was used for another request).
 */
export type CreateProduct = (
  op: OpContext,
  input: CreateProductInput,
) => Promise<Result<Product, ValidationError | ForbiddenError | UnauthenticatedError | IdempotencyKeyReusedError>>;

export function createCreateProduct(deps: { products: ProductRepository; writes: IdempotentProductWrites; now?: () => Date }): CreateProduct {
  const now = deps.now ?? (() => new Date());
  return async (op, input) => {
    const denied = checkAdmin(op);
    if (denied) return err(denied);
    const { idempotencyKey, ...fields } = input;
    const issues = [...checkProductFields(fields), ...(idempotencyKey === undefined ? [] : idempotencyKeyIssues(idempotencyKey, ['idempotencyKey']))];
    if (issues.length > 0) return err(new ValidationError(issues));
    const at = now();
    const product: Product = {
      id: crypto.randomUUID(),
      sku: input.sku,
      name: input.name.trim(),
      description: input.description ?? '',
      priceMinor: input.priceMinor,
      stock: input.stock,
      active: input.active ?? true,
      createdAt: at,
      updatedAt: at,
    };
    op.signal.throwIfAborted();
    const insert = async (products: ProductRepository): Promise<Result<Product, ValidationError>> =>
      (await products.insert(product)) ? ok(product) : err(ValidationError.of(['sku'], 'is already used by another product'));
    const claim = claimOf(op.viewer, idempotencyKey, 'createProduct', { ...fields, description: product.description, active: product.active });
    return claim ? deps.writes.once(claim, insert) : insert(deps.products);
  };
}
