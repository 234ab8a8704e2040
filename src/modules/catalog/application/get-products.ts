import type { OpContext } from '../../../platform/op-context.ts';
import type { Product } from '../domain/product.ts';
import type { ProductRepository } from './ports.ts';

/**
 * Loads products by id for any viewer (products are public, inactive ones included, since past
 * orders point at them).
 * @returns one entry per requested id, in the order of `ids`; null where no product has that id.
 */
export type GetProducts = (op: OpContext, ids: readonly string[]) => Promise<(Product | null)[]>;

export function createGetProducts(deps: { products: ProductRepository }): GetProducts {
  return async (op, ids) => {
    op.signal.throwIfAborted();
    const found = await deps.products.findByIds([...new Set(ids)]);
    const byId = new Map(found.map((p) => [p.id, p]));
    return ids.map((id) => byId.get(id) ?? null);
  };
}
