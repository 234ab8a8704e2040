import { checkAdmin } from '../../../platform/authz.ts';
import { ValidationError, type ForbiddenError, type UnauthenticatedError } from '../../../platform/errors.ts';
import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { checkProductFields, type Product } from '../domain/product.ts';
import type { ProductRepository } from './ports.ts';

export interface CreateProductInput {
  readonly sku: string;
  readonly name: string;
  readonly description?: string;
  readonly priceMinor: number;
  readonly stock: number;
  readonly active?: boolean;
}

/**
 * Adds a product (admin only).
 * @returns the product; VALIDATION_FAILED (including a taken SKU), FORBIDDEN or UNAUTHENTICATED.
 */
export type CreateProduct = (
  op: OpContext,
  input: CreateProductInput,
) => Promise<Result<Product, ValidationError | ForbiddenError | UnauthenticatedError>>;

export function createCreateProduct(deps: { products: ProductRepository; now?: () => Date }): CreateProduct {
  const now = deps.now ?? (() => new Date());
  return async (op, input) => {
    const denied = checkAdmin(op);
    if (denied) return err(denied);
    const issues = checkProductFields(input);
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
    if (!(await deps.products.insert(product))) return err(ValidationError.of(['sku'], 'is already used by another product'));
    return ok(product);
  };
}
