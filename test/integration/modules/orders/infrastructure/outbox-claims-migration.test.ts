import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../../support/test-database.ts';
import { startOutboxRelay } from '../../../../../src/modules/orders/infrastructure/outbox-relay.ts';
import { ORDER_STATUS_TOPIC, type WireChange } from '../../../../../src/modules/orders/infrastructure/event-target-order-events.ts';
import { createLogger } from '../../../../../src/platform/logger.ts';

// Migration20261204000100OutboxClaims from the version before it, with rows in the outbox, and
// from an empty database (useTestDatabase migrates one from nothing).

const database = useTestDatabase();
const sql = <R = Record<string, unknown>>(query: string, params: unknown[] = []) => database.orm.em.fork().getConnection().execute<R[]>(query, params);

const columnsOf = async (table: string) =>
  (await sql<{ name: string; type: string; nullable: string }>(
    "select column_name as name, format_type(atttypid, atttypmod) as type, is_nullable as nullable from information_schema.columns join pg_attribute on attrelid = (table_schema || '.' || table_name)::regclass and attname = column_name where table_name = ? order by ordinal_position",
    [table],
  )).map((c) => `${c.name} ${c.type} ${c.nullable === 'YES' ? 'null' : 'not null'}`);

const change = (orderId: string, version: number): WireChange => ({ orderId, customerId: orderId, version, from: null, to: 'PENDING', at: '2026-12-01T10:00:00.000Z', actor: null, reason: null });

describe('Migration20261204000100OutboxClaims', () => {
  it('from an empty database: the outbox has a nullable claimed_until', async () => {
    expect(await columnsOf('outbox')).toContain('claimed_until timestamp(3) with time zone null');
  });

  it('from the version before, with published and unpublished rows: keeps them all, unclaimed, and the relay publishes the waiting ones', async () => {
    await database.orm.migrator.down({ migrations: ['Migration20261204000100OutboxClaims'] });
    expect((await columnsOf('outbox')).some((c) => c.startsWith('claimed_until'))).toBe(false);
    const [done, waiting] = [crypto.randomUUID(), crypto.randomUUID()];
    for (const [orderId, version, published] of [[done, 1, true], [waiting, 1, false], [waiting, 2, false]] as const) {
      await sql(`insert into outbox (topic, aggregate_id, version, payload, created_at, published_at, attempts) values (?, ?, ?, ?::jsonb, now(), ${published ? 'now()' : 'null'}, ?)`, [
        ORDER_STATUS_TOPIC,
        orderId,
        version,
        JSON.stringify(change(orderId, version)),
        published ? 1 : 0,
      ]);
    }

    await database.orm.migrator.up();

    const rows = await sql<{ aggregate_id: string; version: number; published: boolean; claimed_until: Date | null }>(
      'select aggregate_id, version, published_at is not null as published, claimed_until from outbox order by id',
    );
    expect(rows.map((r) => [r.aggregate_id, Number(r.version), r.published, r.claimed_until])).toEqual([
      [done, 1, true, null],
      [waiting, 1, false, null],
      [waiting, 2, false, null],
    ]);
    const published: WireChange[] = [];
    const relay = startOutboxRelay({
      em: () => database.orm.em.fork(),
      sink: { publishWire: async (wire) => void published.push(wire) },
      logger: createLogger('silent'),
      concurrency: 0,
      batchSize: 10,
      pollIntervalMs: 60_000,
    });
    while ((await relay.relayOnce()) > 0);
    expect(published.map((c) => [c.orderId, c.version])).toEqual([
      [waiting, 1],
      [waiting, 2],
    ]);
  });
});
