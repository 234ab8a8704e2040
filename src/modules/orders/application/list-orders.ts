import { ValidationError } from '../../../platform/errors.ts';
import { canSeeOwnedBy, isAdmin, type OpContext } from '../../../platform/op-context.ts';
import { toPageWindow, type Page, type PageArgs } from '../../../platform/pagination.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { isStorableInstant } from '../../../platform/timestamps.ts';
import type { Order } from '../domain/order.ts';
import type { OrderFilter, OrderOrder, OrderReader } from './ports.ts';

export const DEFAULT_ORDER_ORDER: OrderOrder = { field: 'CREATED_AT', direction: 'DESC' };

const emptyPage: Page<Order> = {
  edges: [],
  pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  totalCount: async () => 0,
};

/**
 * Lists orders as a Relay page: a customer's own orders, or for an admin every order (optionally one
 * customer's with `filter.customerId`). An anonymous caller, or a customer asking for someone
 * else's orders, gets an empty page: the same answer as a customer with no orders.
 * @returns the page, or VALIDATION_FAILED for bad pagination arguments or cursors, or a
 * `createdAfter`/`createdBefore` outside the years PostgreSQL's timestamptz and JavaScript share
 * (0001–9999; the DateTime scalar accepts year 0000).
 */
export type ListOrders = (
  op: OpContext,
  query: PageArgs & { readonly filter?: OrderFilter; readonly orderBy?: OrderOrder },
) => Promise<Result<Page<Order>, ValidationError>>;

export function createListOrders(deps: { reader: OrderReader }): ListOrders {
  return async (op, query) => {
    const window = toPageWindow(query);
    if (!window.ok) return err(window.error);
    const dateIssues = (['createdAfter', 'createdBefore'] as const)
      .filter((name) => query.filter?.[name] !== undefined && !isStorableInstant(query.filter[name]))
      .map((name) => ({ path: ['filter', name], message: 'must be a date-time in the years 0001–9999' }));
    if (dateIssues.length > 0) return err(new ValidationError(dateIssues, 'Invalid date filter'));
    const requested = query.filter?.customerId;
    if (op.viewer.kind === 'anonymous') return ok(emptyPage);
    if (requested !== undefined && !canSeeOwnedBy(op.viewer, requested)) return ok(emptyPage);
    const customerId = isAdmin(op.viewer) ? requested : op.viewer.kind === 'customer' ? op.viewer.customerId : undefined;
    const filter: OrderFilter = { ...query.filter, ...(customerId !== undefined ? { customerId } : {}) };
    op.signal.throwIfAborted();
    return deps.reader.findPage(filter, query.orderBy ?? DEFAULT_ORDER_ORDER, window.value);
  };
}
