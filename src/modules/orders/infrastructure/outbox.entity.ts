import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * Row shape of `outbox`, the order log (ADR 0012; created by Migration20261121000600PaymentsRecovery,
 * made the log by Migration20261204000200OrderLog): order status changes written in the transaction
 * that made them, read by every instance's log reader in position order `(txId, id)`, pruned after
 * the retention window. No "published" state: a row is delivered once the readers have read it.
 */
export const OutboxRecord = defineEntity({
  name: 'OutboxRecord',
  tableName: 'outbox',
  properties: {
    /** Assigned by the database (an identity column) when the row is written: not commit order. */
    id: p.bigint('number').primary(),
    /**
     * The writing transaction's id (`xid8`, set by the column default, so every insert path has
     * it): with `id` the row's position in the log. Read as text in SQL (the pg driver has no type
     * for xid8), hence BigInt here.
     */
    txId: p.bigint('bigint').columnType('xid8').defaultRaw('pg_current_xact_id()'),
    topic: p.text(),
    /** The order the change belongs to. */
    aggregateId: p.uuid(),
    /** The order's customer: customers' streams read their own rows by it. */
    customerId: p.uuid(),
    version: p.integer(),
    /** The change's wire shape (JSON, see WireChange), with the trace context of the operation that made it. */
    payload: p.json(),
    /** When the change was made (its `at`): the write time cursors carry and the retention window counts from. */
    createdAt: p.datetime(),
  },
});
