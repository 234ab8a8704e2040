import { ValidationError } from '../../../platform/errors.ts';
import { isAdmin, type OpContext } from '../../../platform/op-context.ts';
import { toPageWindow, type Page, type PageArgs } from '../../../platform/pagination.ts';
import { err, type Result } from '../../../platform/result.ts';
import { checkSearch, type Product } from '../domain/product.ts';
import type { ProductFilter, ProductOrder, ProductRepository } from './ports.ts';

/**
 * Lists products as a Relay page. Non-admins only ever see active products.
 * @returns the page, or VALIDATION_FAILED for bad pagination arguments, cursors, price bounds or a
 * search text that is too long or holds control characters (`filter.search`).
 */
export type ListProducts = (
  op: OpContext,
  query: PageArgs & { readonly filter?: ProductFilter; readonly orderBy?: ProductOrder },
) => Promise<Result<Page<Product>, ValidationError>>;

export const DEFAULT_PRODUCT_ORDER: ProductOrder = { field: 'NAME', direction: 'ASC' };

export function createListProducts(deps: { products: ProductRepository }): ListProducts {
  return async (op, query) => {
    const window = toPageWindow(query);
    if (!window.ok) return err(window.error);
    const searchIssues = query.filter?.search !== undefined ? checkSearch(query.filter.search) : [];
    if (searchIssues.length > 0) return err(new ValidationError(searchIssues, 'Invalid search'));
    const filter: ProductFilter = { ...query.filter, ...(isAdmin(op.viewer) ? {} : { active: true }) };
    op.signal.throwIfAborted();
    return deps.products.findPage(filter, query.orderBy ?? DEFAULT_PRODUCT_ORDER, window.value);
  };
}
