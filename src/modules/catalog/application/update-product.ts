import { checkAdmin } from '../../../platform/authz.ts';
import { NotFoundError, ValidationError, type ForbiddenError, type IdempotencyKeyReusedError, type UnauthenticatedError } from '../../../platform/errors.ts';
import { claimOf, idempotencyKeyIssues } from '../../../platform/idempotency.ts';
import type { OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { checkProductFields, type Product } from '../domain/product.ts';
import type { IdempotentProductWrites, ProductChanges, ProductRepository } from './ports.ts';

/** Fields to change; absent fields stay as they are. Stock changes go through adjustStock. */
export interface UpdateProductInput {
  readonly id: string;
  readonly name?: string;
  readonly description?: string;
  readonly priceMinor?: number;
  readonly active?: boolean;
  /** Optional: a retry with the same key and input answers the first result without editing again (ADR 0013). */
  readonly idempotencyKey?: string;
}

/**
 * Edits a product (admin only). Price changes apply to new orders; placed orders keep the unit
 * price they captured. With an idempotency key, the edit happens once per (caller, key) within
 * 24 h: a retry answers the product as the first call left it, not as later edits made it.
 * @returns the product; VALIDATION_FAILED, NOT_FOUND, FORBIDDEN, UNAUTHENTICATED or
 * IDEMPOTENCY_KEY_REUSED (the key was used for another request).
 */
export type UpdateProduct = (
  op: OpContext,
  input: UpdateProductInput,
) => Promise<Result<Product, ValidationError | NotFoundError | ForbiddenError | UnauthenticatedError | IdempotencyKeyReusedError>>;

export function createUpdateProduct(deps: { products: ProductRepository; writes: IdempotentProductWrites; now?: () => Date }): UpdateProduct {
  const now = deps.now ?? (() => new Date());
  return async (op, input) => {
    const denied = checkAdmin(op);
    if (denied) return err(denied);
    const { idempotencyKey, ...fields } = input;
    const issues = [...checkProductFields(fields), ...(idempotencyKey === undefined ? [] : idempotencyKeyIssues(idempotencyKey, ['idempotencyKey']))];
    if (issues.length > 0) return err(new ValidationError(issues));
    op.signal.throwIfAborted();
    const changes: ProductChanges = {
      ...(fields.name !== undefined ? { name: fields.name.trim() } : {}),
      ...(fields.description !== undefined ? { description: fields.description } : {}),
      ...(fields.priceMinor !== undefined ? { priceMinor: fields.priceMinor } : {}),
      ...(fields.active !== undefined ? { active: fields.active } : {}),
    };
    const update = async (products: ProductRepository): Promise<Result<Product, NotFoundError>> => {
      const updated = await products.update(fields.id, changes, now());
      return updated ? ok(updated) : err(new NotFoundError('product'));
    };
    const claim = claimOf(op.viewer, idempotencyKey, 'updateProduct', { id: fields.id, ...changes });
    return claim ? deps.writes.once(claim, update) : update(deps.products);
  };
}
