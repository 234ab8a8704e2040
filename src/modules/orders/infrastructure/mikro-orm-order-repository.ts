import { raw, sql, type EntityManager, type FilterQuery, type InferEntity } from '@mikro-orm/postgresql';
import { preparedSelect, slot } from '../../../platform/db/compiled-select.ts';
import { findPage, type PageOrderKey } from '../../../platform/db/find-page.ts';
import type { Order, OrderLine, OrderStatusChange } from '../domain/order.ts';
import { encodeCursor } from '../domain/order-log-cursor.ts';
import { ORDER_STATUS_TOPIC } from './event-target-order-events.ts';
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
/**
 * A history entry with the position and write time of its order-log row (the outbox row of the
 * same order and version; unique, so the join takes its index). The position is null once the row
 * was pruned, and while the row is not yet below the commit horizon: a transaction that started
 * earlier may still commit a row with a lower position, which an all-orders stream resuming after
 * this one would then skip (ADR 0012). Such a change is also on its way to the live streams.
 */
type HistoryRowWithLog = OrderStatusChange & { readonly log_tx_id: string | null; readonly log_id: number | null; readonly log_written_s: number | null };
const historySince = preparedSelect<InferEntity<typeof OrderStatusChangeRecord>, HistoryRowWithLog>(OrderStatusChangeRecord, (qb) =>
  qb
    // The outbox is joined by table name (it is no relation of the history entity), hence raw
    // column names; the transaction id as text (xid8 has no JS type) and only below the horizon,
    // the write time in whole seconds as cursors keep it.
    .leftJoin(sql.ref('outbox'), 'log', { 'log.topic': ORDER_STATUS_TOPIC, 'log.aggregate_id': sql.ref(`${qb.alias}.order_id`), 'log.version': sql.ref(`${qb.alias}.version`) })
    .select('*')
    .addSelect(raw('case when log.tx_id < pg_snapshot_xmin(pg_current_snapshot()) then log.tx_id::text end as log_tx_id'))
    .addSelect(raw('log.id as log_id'))
    .addSelect(raw('floor(extract(epoch from log.created_at))::int8 as log_written_s'))
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

  async findHistorySince(orderId: string, afterVersion: number): Promise<(OrderStatusChange & { readonly cursor: string | null })[]> {
    const rows = await historySince.all(this.#em, { orderId, afterVersion });
    return rows.map(({ log_tx_id, log_id, log_written_s, ...change }) => ({
      ...change,
      cursor: log_tx_id === null || log_id === null || log_written_s === null ? null : encodeCursor({ txId: BigInt(log_tx_id), id: log_id }, new Date(log_written_s * 1_000)),
    }));
  }
}
