import { canSeeOwnedBy, type OpContext } from '../../../platform/op-context.ts';
import type { Customer } from '../domain/customer.ts';
import type { CustomerRepository } from './ports.ts';

/**
 * Loads customers by id as the viewer may see them: a customer sees only their own account, an
 * admin every account.
 * @returns one entry per requested id, in the order of `ids`; null where no account has that id or
 * the viewer may not see it — the two are indistinguishable, so ids cannot be probed.
 */
export type GetCustomers = (op: OpContext, ids: readonly string[]) => Promise<(Customer | null)[]>;

/** Builds {@link GetCustomers}. */
export function createGetCustomers(deps: { customers: CustomerRepository }): GetCustomers {
  return async (op, ids) => {
    // Invisible ids are never looked up, so not even query timing tells them apart from missing ones.
    const visible = [...new Set(ids)].filter((id) => canSeeOwnedBy(op.viewer, id));
    if (visible.length === 0) return ids.map(() => null);
    op.signal.throwIfAborted();
    const found = await deps.customers.findByIds(visible);
    const byId = new Map(found.map((c) => [c.id, c]));
    return ids.map((id) => byId.get(id) ?? null);
  };
}
