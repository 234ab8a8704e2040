import type { EntityManager } from '@mikro-orm/postgresql';
import { execute, perOrm, sqlNames } from '../../../platform/db/sql-parts.ts';
import { encodeCursor, type LogPosition } from '../domain/order-log-cursor.ts';
import type { LoggedChange, OrderLog, OrderLogFilter } from '../application/ports.ts';
import { ORDER_STATUS_TOPIC, type WireChange } from './event-target-order-events.ts';
import { OutboxRecord } from './outbox.entity.ts';

/** A change read from the log, with what delivery tracing and the lag metrics need besides it. */
export interface LogEntry {
  readonly change: LoggedChange;
  /** W3C trace context of the operation that made the change: delivery spans link to it. */
  readonly traceparent: string | undefined;
  /** When the row was written (its `at`), in ms since the epoch. */
  readonly writtenAtMs: number;
  /** Products whose stock moved with the change (the payload's `stockMoved`; empty for none). */
  readonly stockMoved: readonly string[];
}

/** The position before every row: where a read of the whole log starts. */
export const LOG_START: LogPosition = Object.freeze({ txId: 0n, id: 0 });

interface LogRow {
  readonly id: number | string;
  /** xid8 as text: the pg driver has no parser for it, and it may exceed 2^53. */
  readonly tx_id: string;
  readonly customer_id: string;
  readonly payload: WireChange | string;
  readonly written_ms: number | string;
}

/**
 * The log's statements, built once per ORM with the table and column names of the entity metadata.
 * Hand-written (ADR 0011, ADR 0012's consequences): each compares positions as the row `(tx_id,
 * id)` over `xid8` and bounds the read by the commit horizon `pg_snapshot_xmin(pg_current_snapshot())`,
 * neither of which MikroORM's QueryBuilder can express. Every function call in them sees the
 * statement's own snapshot, so the horizon and the rows read agree.
 */
const logStatements = perOrm((em) => {
  const x = sqlNames(em, OutboxRecord);
  const [id, txId, topic, createdAt] = [x.column('id'), x.column('txId'), x.column('topic'), x.column('createdAt')];
  const horizon = 'pg_snapshot_xmin(pg_current_snapshot())';
  const columns = `o.${id} as id, o.${txId}::text as tx_id, o.${x.column('customerId')} as customer_id, o.${x.column('payload')} as payload, (extract(epoch from o.${createdAt}) * 1000)::int8 as written_ms`;
  /** Rows after a position (`?::xid8, ?`) below the horizon, in log order, `?` at most; `extra`: a filter with its `?`. */
  const after = (extra = '') =>
    `select ${columns} from ${x.table} o
      where o.${topic} = ? and (o.${txId}, o.${id}) > (?::xid8, ?) and o.${txId} < ${horizon}${extra}
      order by o.${txId}, o.${id} limit ?`;
  return {
    after: {
      all: after(),
      customer: after(` and o.${x.column('customerId')} = ?`),
      // The unique (topic, aggregate_id, version) index finds an order's few rows.
      order: after(` and o.${x.column('aggregateId')} = ?`),
    },
    // The reader's read: the rows, and (one row even when there are none) when the oldest change
    // was written that is committed but above the horizon, i.e. held back by an older open
    // transaction: the reader then reads again soon, and reports how long it waits.
    tail: `select h.held_since_ms, r.* from
        (select (extract(epoch from min(p.${createdAt})) * 1000)::int8 as held_since_ms from ${x.table} p where p.${txId} >= ${horizon}) h
        left join lateral (${after()}) r on true`,
    // The last readable position: a new reader starts after it (subscribers catch up by replay).
    end: `select o.${txId}::text as tx_id, o.${id} as id from ${x.table} o where o.${txId} < ${horizon} order by o.${txId} desc, o.${id} desc limit 1`,
    // Deletes, in log order, a batch of the log's prefix before its first row written at or after
    // the cutoff, and only rows below the horizon (every reader can have read them): what remains
    // of the log is a suffix, so a cursor whose own row is inside the window has every later row
    // still there (ADR 0012). No row written since the cutoff: nothing is deleted until one is.
    prune: `delete from ${x.table} where ${id} in (
        select o.${id} from ${x.table} o
         where (o.${txId}, o.${id}) < (select f.${txId}, f.${id} from ${x.table} f where f.${createdAt} >= ? order by f.${txId}, f.${id} limit 1)
           and o.${txId} < ${horizon}
         order by o.${txId}, o.${id} limit ?)`,
  };
});

/** A log row as the change it carries, its position and cursor. */
function toEntry(row: LogRow): LogEntry {
  const wire = typeof row.payload === 'string' ? (JSON.parse(row.payload) as WireChange) : row.payload;
  const position: LogPosition = { txId: BigInt(row.tx_id), id: Number(row.id) };
  const writtenAtMs = Number(row.written_ms);
  const change: LoggedChange = {
    orderId: wire.orderId,
    // The row's column: the relay's payloads did not all carry it (the migration filled the column).
    customerId: row.customer_id,
    version: wire.version,
    from: wire.from,
    to: wire.to,
    at: new Date(wire.at),
    actor: wire.actor,
    reason: wire.reason,
    position,
    cursor: encodeCursor(position, new Date(writtenAtMs)),
  };
  return { change, traceparent: wire.traceparent, writtenAtMs, stockMoved: wire.stockMoved ?? [] };
}

/** What one read of the log's tail found. */
export interface TailRead {
  readonly entries: LogEntry[];
  /** When the oldest change held back by an open transaction was written (ms since the epoch), or undefined: none. */
  readonly heldSinceMs: number | undefined;
}

/** The reader's read: entries after `after` (at most `limit`), and whether changes wait behind the horizon. */
export async function readTail(em: EntityManager, after: LogPosition, limit: number): Promise<TailRead> {
  type TailRow = { readonly held_since_ms: number | string | null } & ({ readonly id: null } | LogRow);
  const rows = await execute<TailRow>(em, {
    sql: logStatements(em).tail,
    params: [ORDER_STATUS_TOPIC, after.txId.toString(), after.id, limit],
  });
  const held = rows[0]?.held_since_ms;
  return {
    // No rows after the position: one row of nulls beside held_since_ms (the left join).
    entries: rows.filter((row): row is TailRow & LogRow => row.id !== null).map(toEntry),
    heldSinceMs: held === null || held === undefined ? undefined : Number(held),
  };
}

/** The last position a reader may read now ({@link LOG_START} for an empty log): a new reader starts after it. */
export async function readEnd(em: EntityManager): Promise<LogPosition> {
  const [row] = await execute<{ tx_id: string; id: number | string }>(em, { sql: logStatements(em).end, params: [] });
  return row ? { txId: BigInt(row.tx_id), id: Number(row.id) } : LOG_START;
}

/**
 * Deletes up to `limit` rows of the log's prefix written before `cutoff` (see the statement).
 * @returns how many it deleted (fewer than `limit`: nothing more to prune now).
 */
export async function pruneBefore(em: EntityManager, cutoff: Date, limit: number): Promise<number> {
  const result = await em.getConnection().execute<{ affectedRows: number }>(logStatements(em).prune, [cutoff, limit], 'run', em.getTransactionContext());
  return result.affectedRows;
}

/** {@link OrderLog} on the outbox table, read through the request's EntityManager. */
export class MikroOrmOrderLog implements OrderLog {
  readonly #em: EntityManager;
  constructor(em: EntityManager) {
    this.#em = em;
  }

  async readAfter(after: LogPosition | null, filter: OrderLogFilter, limit: number): Promise<LoggedChange[]> {
    const statements = logStatements(this.#em).after;
    const from = after ?? LOG_START;
    const [sql, extra] =
      filter.orderId !== undefined
        ? [statements.order, [filter.orderId]]
        : filter.customerId !== undefined
          ? [statements.customer, [filter.customerId]]
          : [statements.all, []];
    const rows = await execute<LogRow>(this.#em, { sql, params: [ORDER_STATUS_TOPIC, from.txId.toString(), from.id, ...extra, limit] });
    // An order's rows are its customer's: both filters at once need only the order's.
    return rows.map((row) => toEntry(row).change).filter((change) => filter.customerId === undefined || change.customerId === filter.customerId);
  }
}
