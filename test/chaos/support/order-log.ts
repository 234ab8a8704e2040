import type pg from 'pg';
import type { LogRow } from './verdict.ts';

/** The order log as the database holds it, in log order, with each row's key `orderId:version`. */
export interface LogSnapshot {
  readonly rows: LogRow[];
  /** Index in `rows` by `orderId:version`. */
  readonly indexOf: ReadonlyMap<string, number>;
  /** History entries with no log row, and log rows with no history entry (both 0 when the log is whole). */
  readonly unmatched: { readonly historyOnly: number; readonly logOnly: number };
}

/**
 * Reads every committed status change from the outbox (the order log of ADR 0012) in log order:
 * `(tx_id, id)` when the log's transaction ids exist, else `id`. Each row's customer comes from its
 * order, so the verdict knows who may see it.
 */
export async function readOrderLog(pool: pg.Pool): Promise<LogSnapshot> {
  const { rows: columns } = await pool.query<{ column_name: string }>("select column_name from information_schema.columns where table_name = 'outbox'");
  const hasTxId = columns.some((c) => c.column_name === 'tx_id');
  const { rows } = await pool.query<{ order_id: string; customer_id: string; version: number; created_ms: number }>(
    `select x.aggregate_id as order_id, o.customer_id, x.version, (extract(epoch from x.created_at) * 1000)::float8 as created_ms
       from outbox x join orders o on o.id = x.aggregate_id
      order by ${hasTxId ? 'x.tx_id, ' : ''}x.id`,
  );
  const log = rows.map((r) => ({ orderId: r.order_id, customerId: r.customer_id, version: r.version, createdAt: r.created_ms }));
  const { rows: unmatched } = await pool.query<{ history_only: string; log_only: string }>(
    `select (select count(*) from order_status_history h where not exists (select 1 from outbox x where x.aggregate_id = h.order_id and x.version = h.version)) as history_only,
            (select count(*) from outbox x where not exists (select 1 from order_status_history h where h.order_id = x.aggregate_id and h.version = x.version)) as log_only`,
  );
  return {
    rows: log,
    indexOf: new Map(log.map((row, index) => [`${row.orderId}:${row.version}`, index])),
    unmatched: { historyOnly: Number(unmatched[0]!.history_only), logOnly: Number(unmatched[0]!.log_only) },
  };
}
