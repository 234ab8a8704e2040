import { describe, expect, it } from 'vitest';
import { eventually } from '../../../../support/eventually.ts';
import { useTestDatabase } from '../../../../support/test-database.ts';
import { ORDER_STATUS_TOPIC, type WireChange } from '../../../../../src/modules/orders/infrastructure/event-target-order-events.ts';
import { MikroOrmOrderLog } from '../../../../../src/modules/orders/infrastructure/mikro-orm-order-log.ts';
import { columnsOf as columnsOfTable } from '../../../../support/schema.ts';

// Migration20261204000100OutboxClaims from the version before it, with rows in the outbox, and
// from an empty database (useTestDatabase migrates one from nothing). Migration20261204000200OrderLog
// dropped its column since (the outbox became the log, ADR 0012): going back before it takes both
// down, and coming up again both, through to the log.

const database = useTestDatabase();
const sql = <R = Record<string, unknown>>(query: string, params: unknown[] = []) => database.orm.em.fork().getConnection().execute<R[]>(query, params);

const columnsOf = (table: string) => columnsOfTable(sql, table);

const change = (orderId: string, version: number): WireChange => ({ orderId, customerId: orderId, version, from: null, to: 'PENDING', at: '2026-12-01T10:00:00.000Z', actor: null, reason: null });

describe('Migration20261204000100OutboxClaims', () => {
  it('from an empty database through the order log: no claimed_until (the log has no claims)', async () => {
    expect((await columnsOf('outbox')).some((c) => c.startsWith('claimed_until'))).toBe(false);
  });

  it('adds a nullable claimed_until to the version before it', async () => {
    await database.orm.migrator.down({ migrations: ['Migration20261204000200OrderLog'] });
    await database.orm.migrator.down({ migrations: ['Migration20261204000100OutboxClaims'] });
    expect((await columnsOf('outbox')).some((c) => c.startsWith('claimed_until'))).toBe(false);
    await database.orm.migrator.up({ migrations: ['Migration20261204000100OutboxClaims'] });
    expect(await columnsOf('outbox')).toContain('claimed_until timestamp(3) with time zone null');
    await database.orm.migrator.up();
  });

  it('from the version before, with published and unpublished rows: keeps them all, and the log holds every one of them in id order', async () => {
    await database.orm.migrator.down({ migrations: ['Migration20261204000200OrderLog'] });
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

    // Reads wait for the commit horizon, which any transaction of the shared server holds back.
    const log = new MikroOrmOrderLog(database.orm.em.fork());
    const changes = await eventually(async () => (await log.readAfter(null, {}, 10)).length === 3 && log.readAfter(null, {}, 10));
    expect(changes.map((c) => [c.orderId, c.version])).toEqual([
      [done, 1],
      [waiting, 1],
      [waiting, 2],
    ]);
  });
});
