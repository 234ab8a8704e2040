import type { EntityManager, InferEntity } from '@mikro-orm/postgresql';
import { findKeysetPage, type KeysetColumn } from '../../../platform/db/keyset-page.ts';
import type { Order, OrderLine, OrderStatusChange } from '../domain/order.ts';
import type { OrderStatus } from '../domain/status-machine.ts';
import type { OrderFilter, OrderOrder, OrderReader } from '../application/ports.ts';
import { OrderLineRecord, OrderRecord, OrderStatusChangeRecord } from './order.entities.ts';

type OrderRow = InferEntity<typeof OrderRecord>;
type LineRow = InferEntity<typeof OrderLineRecord>;
type ChangeRow = InferEntity<typeof OrderStatusChangeRecord>;

export const toOrder = (row: OrderRow): Order => ({
  id: row.id,
  number: Number(row.number),
  customerId: row.customerId,
  idempotencyKey: row.idempotencyKey,
  requestHash: row.requestHash,
  status: row.status as OrderStatus,
  currency: row.currency,
  subtotalMinor: Number(row.subtotalMinor),
  discountPercent: row.discountPercent,
  discountMinor: Number(row.discountMinor),
  totalMinor: Number(row.totalMinor),
  version: row.version,
  createdAt: new Date(row.createdAt),
  updatedAt: new Date(row.updatedAt),
});

const toLine = (row: LineRow): OrderLine => ({
  orderId: row.orderId,
  position: Number(row.position),
  productId: row.productId,
  productName: row.productName,
  quantity: Number(row.quantity),
  unitPriceMinor: Number(row.unitPriceMinor),
  lineTotalMinor: Number(row.lineTotalMinor),
});

export const toChange = (row: ChangeRow): OrderStatusChange => ({
  orderId: row.orderId,
  customerId: row.customerId,
  version: row.version,
  from: (row.fromStatus ?? null) as OrderStatus | null,
  to: row.toStatus as OrderStatus,
  at: new Date(row.at),
  actor: row.actor ?? null,
  reason: row.reason ?? null,
});

const orderColumn: Record<OrderOrder['field'], KeysetColumn> = {
  CREATED_AT: { column: 'created_at', key: 'createdAt', kind: 'timestamp' },
  NUMBER: { column: 'number', key: 'number', kind: 'integer' },
  TOTAL: { column: 'total_minor', key: 'totalMinor', kind: 'integer' },
};

// Hot reads (every order page, its lines, every order field its order) skip the query builder
// and entity hydration: MikroORM builds an entity per row even with the identity map off, which
// cost ~20 µs a row, most of an orders page (issue #6). The columns are aliased to the record's
// property names, so the same mappers apply; int8 arrives as a string and is converted by them.
const ORDER_COLUMNS = `select id, number, customer_id as "customerId", idempotency_key as "idempotencyKey", request_hash as "requestHash",
  status, currency, subtotal_minor as "subtotalMinor", discount_percent as "discountPercent", discount_minor as "discountMinor",
  total_minor as "totalMinor", version, created_at as "createdAt", updated_at as "updatedAt"`;
const ORDER_SELECT = `${ORDER_COLUMNS} from orders`;
const LINE_SELECT = `select order_id as "orderId", position, product_id as "productId", product_name as "productName", quantity,
  unit_price_minor as "unitPriceMinor", line_total_minor as "lineTotalMinor" from order_lines`;

/** {@link OrderReader} on MikroORM; reads bypass the identity map and return plain values. */
export class MikroOrmOrderReader implements OrderReader {
  readonly #em: EntityManager;
  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** Plain rows of a raw statement, inside the EntityManager's transaction when it has one. */
  #rows<R>(sql: string, params: unknown[]): Promise<R[]> {
    return this.#em.getConnection().execute<R[]>(sql, params, 'all', this.#em.getTransactionContext());
  }

  async findByIds(ids: readonly string[]): Promise<Order[]> {
    if (ids.length === 0) return [];
    const rows = await this.#rows<OrderRow>(`${ORDER_SELECT} where id in (?)`, [[...ids]]);
    return rows.map(toOrder);
  }

  async findByIdempotencyKey(customerId: string, idempotencyKey: string): Promise<Order | undefined> {
    const [row] = await this.#rows<OrderRow>(`${ORDER_SELECT} where customer_id = ? and idempotency_key = ?`, [customerId, idempotencyKey]);
    return row ? toOrder(row) : undefined;
  }

  findPage(filter: OrderFilter, order: OrderOrder, window: Parameters<OrderReader['findPage']>[2]) {
    const where: { sql: string; params: unknown[] }[] = [];
    if (filter.customerId !== undefined) where.push({ sql: 'customer_id = ?', params: [filter.customerId] });
    if (filter.statuses !== undefined && filter.statuses.length > 0) where.push({ sql: 'status in (?)', params: [[...filter.statuses]] });
    if (filter.createdAfter !== undefined) where.push({ sql: 'created_at >= ?', params: [filter.createdAfter] });
    if (filter.createdBefore !== undefined) where.push({ sql: 'created_at < ?', params: [filter.createdBefore] });
    return findKeysetPage<OrderRow, Order>((sql, params) => this.#rows(sql, [...params]), {
      select: ORDER_COLUMNS,
      from: 'from orders',
      where,
      orderBy: [orderColumn[order.field], { column: 'id', key: 'id', kind: 'uuid' }],
      direction: order.direction === 'ASC' ? 'asc' : 'desc',
      window,
      map: toOrder,
    });
  }

  async findLines(orderIds: readonly string[]): Promise<OrderLine[]> {
    if (orderIds.length === 0) return [];
    const rows = await this.#rows<LineRow>(`${LINE_SELECT} where order_id in (?) order by order_id, position`, [[...orderIds]]);
    return rows.map(toLine);
  }

  async findHistory(orderIds: readonly string[]): Promise<OrderStatusChange[]> {
    if (orderIds.length === 0) return [];
    const rows = await this.#em.find(
      OrderStatusChangeRecord,
      { orderId: { $in: [...orderIds] } },
      { orderBy: { orderId: 'asc', version: 'asc' }, disableIdentityMap: true },
    );
    return rows.map(toChange);
  }

  async findStalePending(before: Date, limit: number): Promise<Order[]> {
    const rows = await this.#em.find(
      OrderRecord,
      { status: 'PENDING', updatedAt: { $lt: before } },
      { orderBy: { updatedAt: 'asc' }, limit, disableIdentityMap: true },
    );
    return rows.map(toOrder);
  }

  async findHistorySince(orderId: string, afterVersion: number): Promise<OrderStatusChange[]> {
    const rows = await this.#em.find(
      OrderStatusChangeRecord,
      { orderId, version: { $gt: afterVersion } },
      { orderBy: { version: 'asc' }, disableIdentityMap: true },
    );
    return rows.map(toChange);
  }
}
