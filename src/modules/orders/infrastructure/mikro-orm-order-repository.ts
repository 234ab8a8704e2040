import type { EntityManager, FilterQuery, InferEntity } from '@mikro-orm/postgresql';
import { preparedSelect, slot } from '../../../platform/db/compiled-select.ts';
import { findPage, type PageOrderKey } from '../../../platform/db/find-page.ts';
import type { Order, OrderLine, OrderStatusChange } from '../domain/order.ts';
import type { OrderFilter, OrderOrder, OrderReader } from '../application/ports.ts';
import { OrderLineRecord, OrderRecord, OrderStatusChangeRecord } from './order.entities.ts';

type OrderRow = InferEntity<typeof OrderRecord>;

// Every read is a statement MikroORM's QueryBuilder builds once (compiled-select.ts): columns and
// tables come from the entities, and the rows are plain objects with the entities' property names,
// which are the domain's, so they are Order, OrderLine and OrderStatusChange values as they come
// (the compiler checks the return types). No entity per row (ADR 0011). `in (…)` takes the whole
// list as one slot.
const ordersByIds = preparedSelect(OrderRecord, (qb) => qb.select('*').where({ id: { $in: [slot('ids')] } }));
const orderByIdempotencyKey = preparedSelect(OrderRecord, (qb) =>
  qb.select('*').where({ customerId: slot('customerId'), idempotencyKey: slot('idempotencyKey') }),
);
const linesOfOrders = preparedSelect(OrderLineRecord, (qb) =>
  qb
    .select('*')
    .where({ orderId: { $in: [slot('orderIds')] } })
    .orderBy([{ orderId: 'asc' }, { position: 'asc' }]),
);
const historyOfOrders = preparedSelect(OrderStatusChangeRecord, (qb) =>
  qb
    .select('*')
    .where({ orderId: { $in: [slot('orderIds')] } })
    .orderBy([{ orderId: 'asc' }, { version: 'asc' }]),
);
const historySince = preparedSelect(OrderStatusChangeRecord, (qb) =>
  qb
    .select('*')
    .where({ orderId: slot('orderId'), version: { $gt: slot('afterVersion') } })
    .orderBy({ version: 'asc' }),
);
const stalePending = preparedSelect(OrderRecord, (qb) =>
  qb
    .select('*')
    .where({ status: 'PENDING', updatedAt: { $lt: slot('before') } })
    .orderBy({ updatedAt: 'asc' })
    .limit(slot<number>('limit')),
);

const orderKey: Record<OrderOrder['field'], keyof OrderRow & string> = { CREATED_AT: 'createdAt', NUMBER: 'number', TOTAL: 'totalMinor' };

/** {@link OrderReader} on MikroORM: plain-object reads of statements its QueryBuilder built once. */
export class MikroOrmOrderReader implements OrderReader {
  readonly #em: EntityManager;
  constructor(em: EntityManager) {
    this.#em = em;
  }

  async findByIds(ids: readonly string[]): Promise<Order[]> {
    if (ids.length === 0) return [];
    return ordersByIds.all(this.#em, { ids });
  }

  async findByIdempotencyKey(customerId: string, idempotencyKey: string): Promise<Order | undefined> {
    const [order] = await orderByIdempotencyKey.all(this.#em, { customerId, idempotencyKey });
    return order;
  }

  findPage(filter: OrderFilter, order: OrderOrder, window: Parameters<OrderReader['findPage']>[2]) {
    const where: FilterQuery<OrderRow> = {};
    if (filter.customerId !== undefined) where.customerId = filter.customerId;
    if (filter.statuses !== undefined && filter.statuses.length > 0) where.status = { $in: [...filter.statuses] };
    if (filter.createdAfter !== undefined || filter.createdBefore !== undefined) {
      where.createdAt = {
        ...(filter.createdAfter !== undefined ? { $gte: filter.createdAfter } : {}),
        ...(filter.createdBefore !== undefined ? { $lt: filter.createdBefore } : {}),
      };
    }
    const direction = order.direction === 'ASC' ? 'asc' : 'desc';
    const orderBy: PageOrderKey<OrderRow>[] = [[orderKey[order.field], direction], ['id', direction]];
    return findPage(this.#em, OrderRecord, { where, orderBy, window });
  }

  async findLines(orderIds: readonly string[]): Promise<OrderLine[]> {
    if (orderIds.length === 0) return [];
    return linesOfOrders.all(this.#em, { orderIds });
  }

  async findHistory(orderIds: readonly string[]): Promise<OrderStatusChange[]> {
    if (orderIds.length === 0) return [];
    return historyOfOrders.all(this.#em, { orderIds });
  }

  findStalePending(before: Date, limit: number): Promise<Order[]> {
    return stalePending.all(this.#em, { before, limit });
  }

  findHistorySince(orderId: string, afterVersion: number): Promise<OrderStatusChange[]> {
    return historySince.all(this.#em, { orderId, afterVersion });
  }
}
