import { canSeeOwnedBy, type OpContext } from '../../../platform/op-context.ts';
import type { Order, OrderLine, OrderStatusChange } from '../domain/order.ts';
import type { OrderReader } from './ports.ts';

/**
 * Loads orders by id. An order the viewer may not see (another customer's, or any for an anonymous
 * caller) is null, exactly like a missing id.
 * @returns one entry per id, in the order of `ids`.
 */
export type GetOrders = (op: OpContext, ids: readonly string[]) => Promise<(Order | null)[]>;

export function createGetOrders(deps: { reader: OrderReader }): GetOrders {
  return async (op, ids) => {
    if (op.viewer.kind === 'anonymous') return ids.map(() => null);
    op.signal.throwIfAborted();
    const found = await deps.reader.findByIds([...new Set(ids)]);
    const byId = new Map(found.filter((o) => canSeeOwnedBy(op.viewer, o.customerId)).map((o) => [o.id, o]));
    return ids.map((id) => byId.get(id) ?? null);
  };
}

/**
 * Lines of several orders in one read (the DataLoader batch behind `Order.lines`).
 * Only called for orders already resolved for this viewer.
 * @returns one list per order id, in the order of `orderIds`, lines by position.
 */
export type GetOrderLines = (op: OpContext, orderIds: readonly string[]) => Promise<OrderLine[][]>;

export function createGetOrderLines(deps: { reader: OrderReader }): GetOrderLines {
  return async (op, orderIds) => {
    op.signal.throwIfAborted();
    const lines = await deps.reader.findLines([...new Set(orderIds)]);
    return groupBy(orderIds, lines, (line) => line.orderId);
  };
}

/**
 * The audit trails of several orders in one read (behind `Order.statusHistory`).
 * Only called for orders already resolved for this viewer.
 * @returns one list per order id, in the order of `orderIds`, by version.
 */
export type GetStatusHistory = (op: OpContext, orderIds: readonly string[]) => Promise<OrderStatusChange[][]>;

export function createGetStatusHistory(deps: { reader: OrderReader }): GetStatusHistory {
  return async (op, orderIds) => {
    op.signal.throwIfAborted();
    const changes = await deps.reader.findHistory([...new Set(orderIds)]);
    return groupBy(orderIds, changes, (change) => change.orderId);
  };
}

function groupBy<T>(keys: readonly string[], items: readonly T[], keyOf: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return keys.map((key) => groups.get(key) ?? []);
}
