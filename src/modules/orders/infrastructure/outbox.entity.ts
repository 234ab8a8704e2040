import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * Row shape of `outbox` (created by Migration20261121000600PaymentsRecovery, claims added by
 * Migration20261204000100OutboxClaims): order status changes written in the transaction that made
 * them, published by the relay afterwards (ADR 7).
 */
export const OutboxRecord = defineEntity({
  name: 'OutboxRecord',
  tableName: 'outbox',
  properties: {
    /** Assigned by the database (an identity column): the publication order. */
    id: p.bigint('number').primary(),
    topic: p.text(),
    /** The order the change belongs to; its rows are published in `id` order. */
    aggregateId: p.uuid(),
    version: p.integer(),
    /** The change's wire shape (JSON). */
    payload: p.json(),
    createdAt: p.datetime(),
    publishedAt: p.datetime().nullable(),
    /** Claims so far (each by one relay worker, for a batch). */
    attempts: p.integer(),
    lastError: p.text().nullable(),
    /** Until when a relay worker holds the row; after that another may claim it (the first one died). */
    claimedUntil: p.datetime().nullable(),
  },
});
