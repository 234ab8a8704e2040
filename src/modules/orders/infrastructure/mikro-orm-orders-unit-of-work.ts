import type { EntityManager, InferEntity } from '@mikro-orm/postgresql';
import type { IdempotencyClaim } from '../../../platform/idempotency.ts';
import { compileSelect, mapRows, slot } from '../../../platform/db/compiled-select.ts';
import type { SqlFragment } from '../../../platform/db/sql-fragment.ts';
import { execute, fragmentOf, perOrm, sqlNames } from '../../../platform/db/sql-parts.ts';
import { err, type Result } from '../../../platform/result.ts';
import type { StockReservations } from '../../catalog/public.ts';
import type { PaymentStatements } from '../../payments/public.ts';
import type { Order, OrderLine, OrderStatusChange } from '../domain/order.ts';
import type { ChargeAnswer, OrdersTransaction, OrdersUnitOfWork, PaymentAnswerRecorded, StoredAnswer } from '../application/ports.ts';
import { ORDER_STATUS_TOPIC, toWireChange, type WireChange } from './event-target-order-events.ts';
import { claimWithAnswer, findStoredAnswer } from './mikro-orm-order-idempotency.ts';
import { OrderLineRecord, OrderRecord, OrderStatusChangeRecord } from './order.entities.ts';
import { OutboxRecord } from './outbox.entity.ts';

type OrderRecordShape = InferEntity<typeof OrderRecord>;

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
  /** The payments module's writes, embedded in this module's statements. */
  readonly paymentStatements: (em: EntityManager) => PaymentStatements;
  /**
   * Serialises a change for the outbox; the default is the plain wire shape, and the module adds
   * the operation's trace context to it (so delivery spans link to the request that made it).
   */
  readonly wire?: (change: OrderStatusChange) => WireChange;
}

/**
 * The orders module's write statements, built once per ORM: the order insert that claims the
 * idempotency key by MikroORM's QueryBuilder, and, hand-written with the table and column names of
 * the entity metadata (ADR 0011), what the QueryBuilder cannot attach: the status update guarded by
 * another CTE, and the rows written only when the order row was (`insert … select … from` the CTE
 * that wrote it): lines, history entry, outbox event. Composed into one statement each because a
 * round trip per row was most of placeOrder (issue 12).
 */
const writeStatements = perOrm((em) => {
  const o = sqlNames(em, OrderRecord);
  const l = sqlNames(em, OrderLineRecord);
  const h = sqlNames(em, OrderStatusChangeRecord);
  const x = sqlNames(em, OutboxRecord);
  const orderProperties = ['id', 'number', 'customerId', 'idempotencyKey', 'requestHash', 'status', 'currency', 'subtotalMinor', 'discountPercent', 'discountMinor', 'totalMinor', 'version', 'createdAt', 'updatedAt'] as const;
  const [id, version, customerId] = [o.column('id'), o.column('version'), o.column('customerId')];
  /** History entry and outbox event of the order row `cte` returned (none when it returned none). */
  const changeRows = (cte: string) => ({
    history: `insert into ${h.table} (${h.columns('orderId', 'version', 'customerId', 'from', 'to', 'actor', 'reason', 'at')})
      select c.${id}, c.${version}, c.${customerId}, ?, ?, ?, ?, ? from ${cte} c`,
    // tx_id is the column's default (the writing transaction's id): the row's place in the log.
    outbox: `insert into ${x.table} (${x.columns('topic', 'aggregateId', 'customerId', 'version', 'payload', 'createdAt')})
      select ?, c.${id}, c.${customerId}, c.${version}, ?::jsonb, ? from ${cte} c`,
  });
  return {
    // ON CONFLICT keeps the statement whole: a racing twin blocks on the unique index until the
    // winner commits, then inserts nothing, and neither do the rows that select from it.
    insertOrder: compileSelect(em, OrderRecord, (qb) =>
      qb
        .insert(Object.fromEntries(orderProperties.filter((p) => p !== 'number').map((p) => [p, slot(p)])) as never)
        .onConflict(['customerId', 'idempotencyKey'])
        .ignore()
        .returning(['id', 'number', 'version', 'customerId']) as never,
    ),
    /** The lines of the order `new_order` returned; the values list's types are the columns'. */
    insertLines: (count: number) =>
      `insert into ${l.table} (${l.columns('orderId', 'position', 'productId', 'productName', 'quantity', 'unitPriceMinor', 'lineTotalMinor')})
        select n.${id}, v.* from new_order n
        cross join (values ${Array.from({ length: count }, () => '(?::integer, ?::uuid, ?::text, ?::integer, ?::bigint, ?::bigint)').join(', ')}) as v`,
    created: changeRows('new_order'),
    /** What the composed insert answers: the order's number, assigned by the database (no row: a duplicate key). */
    placed: `select n.${o.column('number')} as number from new_order n`,
    /** The optimistic-lock update of a status change; with `guard`, only if that CTE returned a row. */
    moveOrder: (guard?: string) =>
      `update ${o.table} set ${o.column('status')} = ?, ${version} = ?, ${o.column('updatedAt')} = ?
        where ${id} = ? and ${version} = ? and ${o.column('status')} = ?${guard ? ` and exists (select 1 from ${guard})` : ''}
        returning ${o.columns(...orderProperties)}`,
    moved: changeRows('moved'),
  };
});

/** {@link OrdersUnitOfWork} as MikroORM transactions (and single statements) on the request's EntityManager. */
export class MikroOrmOrdersUnitOfWork implements OrdersUnitOfWork {
  readonly #em: EntityManager;
  readonly #options: Required<OrdersUnitOfWorkOptions>;
  constructor(em: EntityManager, options: OrdersUnitOfWorkOptions) {
    this.#em = em;
    this.#options = { ...options, wire: options.wire ?? toWireChange };
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

  async recordPaymentAnswer(change: OrderStatusChange, answer: ChargeAnswer, release: readonly { productId: string; quantity: number }[]): Promise<PaymentAnswerRecorded> {
    const record = async (em: EntityManager): Promise<PaymentAnswerRecorded> => {
      const recorded = this.#options.paymentStatements(em).recordAnswer(change.orderId, answer, change.at);
      const wire = withStockMoved(this.#options.wire(change), release.map((l) => l.productId));
      const [row] = await execute<Record<string, unknown> & { recorded: number }>(em, statusChange(em, change, wire, recorded));
      const order = row?.id ? toOrder(em, row) : undefined;
      return { recorded: Number(row?.recorded) > 0, order };
    };
    // One statement is one transaction: the usual case (PAID) needs no BEGIN/COMMIT. A decline
    // puts the stock back too, a second statement (the catalog's), so it takes a transaction; the
    // release comes after the statement that moves the order, as ADR 0012's rule wants (see
    // SqlOrdersTransaction). Within that statement the payment's update runs before the order's,
    // but on the statement's snapshot, taken before either: the version it moves from was
    // committed before this transaction had an id.
    if (release.length === 0) return record(this.#em);
    return this.#em.transactional(async (txEm) => {
      const done = await record(txEm);
      if (done.order) await this.#options.stockReservations(txEm).release(release);
      return done;
    });
  }

  storedAnswer(claim: Pick<IdempotencyClaim, 'identity' | 'key'>): Promise<StoredAnswer | undefined> {
    return findStoredAnswer(this.#em, claim);
  }
}

/**
 * One status change as one statement: the order's optimistic-lock update, and from its returned
 * row the history entry and outbox event. With `guard` (a payment statement returning a row when it
 * applied), the order moves only if the guard applied, and the statement answers whether it did.
 */
function statusChange(em: EntityManager, change: OrderStatusChange, wire: WireChange, guard?: SqlFragment): SqlFragment {
  const statements = writeStatements(em);
  const moved: SqlFragment = {
    sql: statements.moveOrder(guard ? 'guard' : undefined),
    params: [change.to, change.version, change.at, change.orderId, change.version - 1, change.from],
  };
  const parts: [string, SqlFragment][] = [
    ['moved', moved],
    ['history', { sql: statements.moved.history, params: [change.from, change.to, change.actor, change.reason, change.at] }],
    ['outbox', { sql: statements.moved.outbox, params: [ORDER_STATUS_TOPIC, JSON.stringify(wire), change.at] }],
  ];
  if (!guard) return withParts(parts, 'select * from moved');
  // Exactly one row: whether the guard applied, and the moved order's columns (null when it did not move).
  return withParts([['guard', guard], ...parts], 'select (select count(*) from guard) as recorded, m.* from (values (1)) as one (x) left join moved m on true');
}

/** The outbox payload naming the products whose stock moved with the change (none: unchanged). */
function withStockMoved(wire: WireChange, productIds: readonly string[]): WireChange {
  return productIds.length > 0 ? { ...wire, stockMoved: [...new Set(productIds)] } : wire;
}

/** `with <name> as (<part>), … <main>`: the parts' values in text order. */
function withParts(parts: readonly (readonly [string, SqlFragment])[], main: string): SqlFragment {
  return {
    sql: `with ${parts.map(([name, part]) => `${name} as (${part.sql})`).join(',\n')}\n${main}`,
    params: parts.flatMap(([, part]) => part.params),
  };
}

/** An order row (column names) as the domain's Order, through MikroORM's result mapper. */
function toOrder(em: EntityManager, row: Record<string, unknown>): Order {
  const { recorded: _, ...columns } = row;
  return mapRows<OrderRecordShape, Order>(em, OrderRecord, [columns])[0]!;
}

/**
 * The writes of one transaction: statements composed so a write costs one round trip.
 *
 * ADR 0012's rule: in a transaction that moves an order's version, nothing is written before the
 * statement that moves it. PostgreSQL gives a transaction its id at its first write; the log
 * orders rows by that id, and the version moved from must belong to a transaction with a smaller
 * one. That holds when the first write is the statement that reads the version (on a snapshot
 * taken after that version committed): any earlier write (a stock release, say) could take an id
 * before the previous version's transaction took its own, and the log would list v+1 before v.
 * The use cases keep this order (transitionOrder: move, then claim the idempotency key and release stock; placeOrder: the
 * order's first version, which follows nothing); {@link saveStatusChange} refuses to run after
 * another write, so a change of order shows up as an error in tests, not as a reordered log.
 */
class SqlOrdersTransaction implements OrdersTransaction {
  readonly #em: EntityManager;
  readonly #options: Required<OrdersUnitOfWorkOptions>;
  #stock: StockReservations | undefined;
  /** Whether a statement of this transaction wrote (or may have written) already. */
  #wrote = false;
  constructor(em: EntityManager, options: Required<OrdersUnitOfWorkOptions>) {
    this.#em = em;
    this.#options = options;
  }

  get #reservations(): StockReservations {
    this.#stock ??= this.#options.stockReservations(this.#em);
    return this.#stock;
  }

  reserveStock(lines: readonly { productId: string; quantity: number }[]) {
    this.#wrote = true;
    return this.#reservations.reserve(lines);
  }

  reserveStockWithLevels(lines: readonly { productId: string; quantity: number }[]) {
    this.#wrote = true;
    return this.#reservations.reserveWithLevels(lines);
  }

  releaseStock(lines: readonly { productId: string; quantity: number }[]) {
    this.#wrote = true;
    return this.#reservations.release(lines);
  }

  /**
   * One statement (issue 12): the order insert claims the idempotency key, and its lines, history
   * entry, outbox event and PENDING payment are written only if it wrote the order row.
   */
  async insertOrder(order: Omit<Order, 'number'>, lines: readonly Omit<OrderLine, 'orderId'>[], created: OrderStatusChange) {
    this.#wrote = true;
    const statements = writeStatements(this.#em);
    // Nothing to charge, no payment (the payments module takes positive amounts only).
    const payment: [string, SqlFragment][] =
      order.totalMinor > 0
        ? [['payment', this.#options.paymentStatements(this.#em).insertPending({ orderId: order.id, amountMinor: order.totalMinor, currency: order.currency }, order.createdAt, 'new_order')]]
        : [];
    const statement = withParts(
      [
        ['new_order', fragmentOf(statements.insertOrder, order)],
        [
          'lines',
          {
            sql: statements.insertLines(lines.length),
            params: lines.flatMap((l) => [l.position, l.productId, l.productName, l.quantity, l.unitPriceMinor, l.lineTotalMinor]),
          },
        ],
        ['history', { sql: statements.created.history, params: [created.from, created.to, created.actor, created.reason, created.at] }],
        ['outbox', { sql: statements.created.outbox, params: [ORDER_STATUS_TOPIC, JSON.stringify(withStockMoved(this.#options.wire(created), lines.map((l) => l.productId))), created.at] }],
        ...payment,
      ],
      statements.placed,
    );
    const [row] = await execute<{ number: number | string }>(this.#em, statement);
    if (!row) return 'DUPLICATE_IDEMPOTENCY_KEY' as const;
    return { ...order, number: Number(row.number) };
  }

  /** @throws Error when this transaction wrote before (ADR 0012's rule, see the class): a bug in the caller. */
  async saveStatusChange(change: OrderStatusChange, stockMoved: readonly string[] = []): Promise<Order | undefined> {
    if (this.#wrote) throw new Error('an order status change must be the first write of its transaction (ADR 0012: log order follows version order)');
    this.#wrote = true;
    const [row] = await execute<Record<string, unknown>>(this.#em, statusChange(this.#em, change, withStockMoved(this.#options.wire(change), stockMoved)));
    return row ? toOrder(this.#em, row) : undefined;
  }

  /**
   * Two statements after the move (delete the key's expired row, insert the claim with its
   * answer): ADR 0012's rule holds because they come after it, and {@link saveStatusChange}
   * refuses to follow them (ADR 0013, orders).
   */
  claimKey(claim: IdempotencyClaim, answer: Order): Promise<boolean> {
    this.#wrote = true;
    return claimWithAnswer(this.#em, claim, answer);
  }
}
