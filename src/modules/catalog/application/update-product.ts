import { checkAdmin } from '../../../platform/authz.ts';
import { NotFoundError, ValidationError, type ForbiddenError, type UnauthenticatedError } from '../../../platform/errors.ts';
import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { checkProductFields, type Product } from '../domain/product.ts';
import type { ProductRepository } from './ports.ts';

/** Fields to change; absent fields stay as they are. Stock changes go through adjustStock. */
export interface UpdateProductInput {
  readonly id: string;
  readonly name?: string;
  readonly description?: string;
  readonly priceMinor?: number;
  readonly active?: boolean;
}

/**
 * Edits a product (admin only). Price changes apply to new orders; placed orders keep the unit
 * price they captured.
 * @returns the product; VALIDATION_FAILED, NOT_FOUND, FORBIDDEN or UNAUTHENTICATED.
 */
export type UpdateProduct = (
  op: OpContext,
  input: UpdateProductInput,
) => Promise<Result<Product, ValidationError | NotFoundError | ForbiddenError | UnauthenticatedError>>;

export function createUpdateProduct(deps: { products: ProductRepository; now?: () => Date }): UpdateProduct {
  const now = deps.now ?? (() => new Date());
  return async (op, input) => {
    const denied = checkAdmin(op);
    if (denied) return err(denied);
    const issues = checkProductFields(input);
    if (issues.length > 0) return err(new ValidationError(issues));
    op.signal.throwIfAborted();
    const updated = await deps.products.update(
      input.id,
      {
        ...(input.name !== undefined ? { name: input.name.trim() } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.priceMinor !== undefined ? { priceMinor: input.priceMinor } : {}),
        ...(input.active !== undefined ? { active: input.active } : {}),
      },
      now(),
    );
    return updated ? ok(updated) : err(new NotFoundError('product'));
  };
}
