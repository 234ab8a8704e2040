import type { EntityManager } from '@mikro-orm/postgresql';
import type { StockReservations } from '../../catalog/public.ts';
import { err, type Result } from '../../../platform/result.ts';
import type { Order, OrderLine, OrderStatusChange } from '../domain/order.ts';
import type { OrdersTransaction, OrdersUnitOfWork } from '../application/ports.ts';
import { toOrder } from './mikro-orm-order-repository.ts';
import { ORDER_STATUS_TOPIC, toWireChange, type WireChange } from './event-target-order-events.ts';

/** Carries an error result out of `em.transactional` so that MikroORM rolls back. */
class Rollback<E> extends Error {
  readonly result: Result<never, E>;
  constructor(result: Result<never, E>) {
    super('rollback');
    this.result = result;
  }
}

/** What a {@link MikroOrmOrdersUnitOfWork} writes with besides its EntityManager. */
export interface OrdersUnitOfWorkOptions {
  /** The catalog's conditional stock updates, bound to the transaction's EntityManager. */
  readonly stockReservations: (em: EntityManager) => StockReservations;
  /**
   * Serialises a change for the outbox; the default is the plain wire shape, and the module adds
   * the operation's trace context to it (so delivery spans link to the request that made it).
   */
  readonly wire?: (change: OrderStatusChange) => WireChange;
}

/** {@link OrdersUnitOfWork} as a MikroORM transaction on a fork of the request's EntityManager. */
export class MikroOrmOrdersUnitOfWork implements OrdersUnitOfWork {
  readonly #em: EntityManager;
  readonly #options: Required<OrdersUnitOfWorkOptions>;
  constructor(em: EntityManager, options: OrdersUnitOfWorkOptions) {
    this.#em = em;
    this.#options = { stockReservations: options.stockReservations, wire: options.wire ?? toWireChange };
  }

  async transaction<T, E>(work: (tx: OrdersTransaction) => Promise<Result<T, E>>): Promise<Result<T, E>> {
    try {
      return await this.#em.transactional(async (txEm) => {
        const result = await work(new SqlOrdersTransaction(txEm, this.#options));
        if (!result.ok) throw new Rollback(err(result.error));
        return result;
      });
    } catch (error) {
      if (error instanceof Rollback) return error.result as Result<T, E>;
      throw error;
    }
  }
}

const ORDER_COLUMNS = `id, number, customer_id as "customerId", idempotency_key as "idempotencyKey", request_hash as "requestHash",
  status, currency, subtotal_minor as "subtotalMinor", discount_percent as "discountPercent", discount_minor as "discountMinor",
  total_minor as "totalMinor", version, created_at as "createdAt", updated_at as "updatedAt"`;

/** The writes of one transaction, as plain SQL: conditional updates carry the concurrency rules. */
class SqlOrdersTransaction implements OrdersTransaction {
  readonly #em: EntityManager;
  readonly #stock: StockReservations;
  readonly #wire: (change: OrderStatusChange) => WireChange;
  constructor(em: EntityManager, options: Required<OrdersUnitOfWorkOptions>) {
    this.#em = em;
    this.#stock = options.stockReservations(em);
    this.#wire = options.wire;
  }

  #execute<R>(sql: string, params: unknown[]): Promise<R[]> {
    return this.#em.getConnection().execute<R[]>(sql, params, 'all', this.#em.getTransactionContext());
  }

  reserveStock(lines: readonly { productId: string; quantity: number }[]) {
    return this.#stock.reserve(lines);
  }

  releaseStock(lines: readonly { productId: string; quantity: number }[]) {
    return this.#stock.release(lines);
  }

  async insertOrder(order: Omit<Order, 'number'>, lines: readonly Omit<OrderLine, 'orderId'>[], created: OrderStatusChange) {
    // ON CONFLICT keeps the transaction usable; a racing twin blocks on the unique index until the
    // winner commits, then sees the conflict.
    const rows = await this.#execute<Parameters<typeof toOrder>[0]>(
      `insert into orders (id, customer_id, idempotency_key, request_hash, status, currency, subtotal_minor, discount_percent,
         discount_minor, total_minor, version, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (customer_id, idempotency_key) do nothing
       returning ${ORDER_COLUMNS}`,
      [order.id, order.customerId, order.idempotencyKey, order.requestHash, order.status, order.currency, order.subtotalMinor,
        order.discountPercent, order.discountMinor, order.totalMinor, order.version, order.createdAt, order.updatedAt],
    );
    const row = rows[0];
    if (!row) return 'DUPLICATE_IDEMPOTENCY_KEY' as const;
    const placeholders = lines.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
    await this.#execute(
      `insert into order_lines (order_id, position, product_id, product_name, quantity, unit_price_minor, line_total_minor) values ${placeholders}`,
      lines.flatMap((l) => [order.id, l.position, l.productId, l.productName, l.quantity, l.unitPriceMinor, l.lineTotalMinor]),
    );
    await this.#insertHistory(created);
    return toOrder(row);
  }

  async saveStatusChange(change: OrderStatusChange): Promise<Order | undefined> {
    const rows = await this.#execute<Parameters<typeof toOrder>[0]>(
      `update orders set status = ?, version = ?, updated_at = ?
        where id = ? and version = ? and status = ?
        returning ${ORDER_COLUMNS}`,
      [change.to, change.version, change.at, change.orderId, change.version - 1, change.from],
    );
    const row = rows[0];
    if (!row) return undefined;
    await this.#insertHistory(change);
    return toOrder(row);
  }

  /**
   * The audit entry and, in the same transaction, its outbox event (published later by the relay):
   * one statement, a data-modifying CTE, so a status change costs one round trip less (issue 6).
   */
  async #insertHistory(change: OrderStatusChange): Promise<void> {
    await this.#execute(
      `with history as (
         insert into order_status_history (order_id, version, customer_id, from_status, to_status, actor, reason, at)
         values (?, ?, ?, ?, ?, ?, ?, ?))
       insert into outbox (topic, aggregate_id, version, payload, created_at) values (?, ?, ?, ?::jsonb, ?)`,
      [change.orderId, change.version, change.customerId, change.from, change.to, change.actor, change.reason, change.at,
        ORDER_STATUS_TOPIC, change.orderId, change.version, JSON.stringify(this.#wire(change)), change.at],
    );
  }
}
