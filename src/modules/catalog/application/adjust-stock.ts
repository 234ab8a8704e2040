import { checkAdmin } from '../../../platform/authz.ts';
import { NotFoundError, ValidationError, type ForbiddenError, type UnauthenticatedError } from '../../../platform/errors.ts';
import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { PRODUCT_LIMITS, type Product } from '../domain/product.ts';
import type { ProductRepository } from './ports.ts';

/**
 * Adds (delivery) or removes (write-off) units of stock atomically (admin only); a delta that would
 * take stock below zero is refused rather than clamped.
 * @returns the product; VALIDATION_FAILED, NOT_FOUND, FORBIDDEN or UNAUTHENTICATED.
 */
export type AdjustStock = (
  op: OpContext,
  input: { readonly productId: string; readonly delta: number },
) => Promise<Result<Product, ValidationError | NotFoundError | ForbiddenError | UnauthenticatedError>>;

export function createAdjustStock(deps: { products: ProductRepository }): AdjustStock {
  return async (op, input) => {
    const denied = checkAdmin(op);
    if (denied) return err(denied);
    if (!Number.isSafeInteger(input.delta) || input.delta === 0 || Math.abs(input.delta) > PRODUCT_LIMITS.maxStock) {
      return err(ValidationError.of(['delta'], `must be a non-zero integer between -${PRODUCT_LIMITS.maxStock} and ${PRODUCT_LIMITS.maxStock}`));
    }
    op.signal.throwIfAborted();
    const result = await deps.products.adjustStock(input.productId, input.delta, PRODUCT_LIMITS.maxStock);
    if (result === 'NOT_FOUND') return err(new NotFoundError('product'));
    if (result === 'OUT_OF_RANGE') {
      return err(ValidationError.of(['delta'], `would take stock outside 0..${PRODUCT_LIMITS.maxStock}`));
    }
    return ok(result);
  };
}
