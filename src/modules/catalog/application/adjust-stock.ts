import { checkAdmin } from '../../../platform/authz.ts';
import { NotFoundError, ValidationError, type FieldIssue, type ForbiddenError, type IdempotencyKeyReusedError, type UnauthenticatedError } from '../../../platform/errors.ts';
import { claimOf, idempotencyKeyIssues } from '../../../platform/idempotency.ts';
import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { PRODUCT_LIMITS, type Product } from '../domain/product.ts';
import type { IdempotentProductWrites, ProductRepository } from './ports.ts';

export interface AdjustStockInput {
  readonly productId: string;
  /** Units to add (positive) or remove (negative). */
  readonly delta: number;
  /** Optional: a retry with the same key and input answers the first result without adjusting again (ADR 0013). */
  readonly idempotencyKey?: string;
}

export type AdjustStockError = ValidationError | NotFoundError | ForbiddenError | UnauthenticatedError | IdempotencyKeyReusedError;

/**
 * Adds (delivery) or removes (write-off) units of stock atomically (admin only); a delta that would
 * take stock below zero is refused rather than clamped. With an idempotency key, the adjustment
 * happens once per (caller, key) within 24 h, also when retries race.
 * @returns the product (for a replay, as the first call left it); VALIDATION_FAILED, NOT_FOUND,
 * FORBIDDEN, UNAUTHENTICATED, or IDEMPOTENCY_KEY_REUSED (the key was used for another request).
 */
export type AdjustStock = (op: OpContext, input: AdjustStockInput) => Promise<Result<Product, AdjustStockError>>;

export function createAdjustStock(deps: { products: ProductRepository; writes: IdempotentProductWrites }): AdjustStock {
  return async (op, input) => {
    const denied = checkAdmin(op);
    if (denied) return err(denied);
    const issues: FieldIssue[] = [];
    if (!Number.isSafeInteger(input.delta) || input.delta === 0 || Math.abs(input.delta) > PRODUCT_LIMITS.maxStock) {
      issues.push({ path: ['delta'], message: `must be a non-zero integer between -${PRODUCT_LIMITS.maxStock} and ${PRODUCT_LIMITS.maxStock}` });
    }
    if (input.idempotencyKey !== undefined) issues.push(...idempotencyKeyIssues(input.idempotencyKey, ['idempotencyKey']));
    if (issues.length > 0) return err(new ValidationError(issues, issues.length === 1 ? issues[0]!.message : undefined));
    op.signal.throwIfAborted();
    const { productId, delta } = input;
    const claim = claimOf(op.viewer, input.idempotencyKey, 'adjustStock', { productId, delta });
    const adjust = (products: ProductRepository) => adjustIn(products, productId, delta);
    return claim ? deps.writes.once(claim, adjust) : adjust(deps.products);
  };
}

/** The conditional update and what its answer means. */
async function adjustIn(products: ProductRepository, productId: string, delta: number): Promise<Result<Product, ValidationError | NotFoundError>> {
  const result = await products.adjustStock(productId, delta, PRODUCT_LIMITS.maxStock);
  if (result === 'NOT_FOUND') return err(new NotFoundError('product'));
  if (result === 'OUT_OF_RANGE') return err(ValidationError.of(['delta'], `would take stock outside 0..${PRODUCT_LIMITS.maxStock}`));
  return ok(result);
}
