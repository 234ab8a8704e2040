import { describe, expect, it } from 'vitest';
import { eventually } from '../../../../support/eventually.ts';
import { useTestDatabase } from '../../../../support/test-database.ts';
import { decodeCursor } from '../../../../../src/modules/orders/domain/order-log-cursor.ts';
import { ORDER_STATUS_TOPIC } from '../../../../../src/modules/orders/infrastructure/event-target-order-events.ts';
import { MikroOrmOrderLog, readEnd } from '../../../../../src/modules/orders/infrastructure/mikro-orm-order-log.ts';
import { columnsOf as columnsOfTable } from '../../../../support/schema.ts';

// Migration20261204000200OrderLog (ADR 0012: the outbox becomes the log) on a database that has
// outbox rows of the relay's time: published, waiting, claimed; from an empty database too
// (useTestDatabase migrates one from nothing).

const database = useTestDatabase();
const sql = <R = Record<string, unknown>>(query: string, params: unknown[] = []) => database.orm.em.fork().getConnection().execute<R[]>(query, params);

const columnsOf = (table: string) => columnsOfTable(sql, table);

const indexesOf = async (table: string) => (await sql<{ indexdef: string }>('select indexdef from pg_indexes where tablename = ? order by indexname', [table])).map((row) => row.indexdef.replace(/^.* USING btree /, ''));

describe('Migration20261204000200OrderLog', () => {
  it('from an empty database: the log has its position, its customer and no relay bookkeeping', async () => {
    expect(await columnsOf('outbox')).toEqual([
      'id bigint not null',
      'topic text not null',
      'aggregate_id uuid not null',
      'version integer not null',
      'payload jsonb not null',
      'created_at timestamp(3) with time zone not null',
      'tx_id xid8 not null',
      'customer_id uuid not null',
    ]);
    expect(await indexesOf('outbox')).toEqual(expect.arrayContaining(['(customer_id, tx_id, id)', '(tx_id, id)']));
  });

  it("from the relay's version, with published, waiting and claimed rows: keeps them all, in id order, with their customer from the payload or the order", async () => {
    await database.orm.migrator.down({ migrations: ['Migration20261204000200OrderLog'] });
    expect((await columnsOf('outbox')).some((c) => c.startsWith('tx_id'))).toBe(false);
    const customerId = crypto.randomUUID();
    await sql('insert into customers (id, email, name, password_hash) values (?, ?, ?, ?)', [customerId, `${customerId}@example.com`, 'Old Customer', 'hash']);
    const legacyOrder = crypto.randomUUID();
    await sql(
      "insert into orders (id, customer_id, idempotency_key, request_hash, status, currency, subtotal_minor, discount_percent, discount_minor, total_minor, version, created_at, updated_at) values (?, ?, 'k', ?, 'PENDING', 'USD', 0, 0, 0, 0, 1, now(), now())",
      [legacyOrder, customerId, 'a'.repeat(64)],
    );
    const [published, waiting, claimed] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const rows: [string, number, Record<string, unknown>, string][] = [
      [published, 1, { customerId }, 'published_at = now()'],
      [waiting, 1, { customerId }, 'published_at = null'],
      [claimed, 1, { customerId }, "claimed_until = now() + interval '1 minute'"],
      // An old payload without customerId: the order's customer is taken.
      [legacyOrder, 1, {}, 'published_at = null'],
    ];
    for (const [orderId, version, extra, state] of rows) {
      const payload = { orderId, version, from: null, to: 'PENDING', at: '2026-12-01T10:00:00.000Z', actor: null, reason: null, ...extra };
      await sql('insert into outbox (topic, aggregate_id, version, payload, created_at) values (?, ?, ?, ?::jsonb, ?)', [ORDER_STATUS_TOPIC, orderId, version, JSON.stringify(payload), new Date('2026-12-01T10:00:00.000Z')]);
      await sql(`update outbox set ${state} where aggregate_id = ?`, [orderId]);
    }

    await database.orm.migrator.up();

    expect((await columnsOf('outbox')).filter((c) => /published_at|attempts|last_error|claimed_until/.test(c))).toEqual([]);
    const backfilled = await sql<{ aggregate_id: string; customer_id: string }>('select aggregate_id, customer_id from outbox order by id');
    expect(backfilled.map((row) => row.customer_id)).toEqual([customerId, customerId, customerId, customerId]);
    const log = new MikroOrmOrderLog(database.orm.em.fork());
    // Reads wait for the commit horizon, which any transaction of the shared server holds back.
    const changes = await eventually(async () => (await log.readAfter(null, {}, 10)).length === 4 && log.readAfter(null, {}, 10));
    expect(changes.map((c) => c.orderId)).toEqual([published, waiting, claimed, legacyOrder]);
    expect(changes.map((c) => decodeCursor(c.cursor)?.writtenAt.toISOString())).toEqual(Array(4).fill('2026-12-01T10:00:00.000Z'));
    // A reader started now begins after them; a row written later comes after them in the log.
    const end = await readEnd(database.orm.em.fork());
    expect(end).toEqual(changes.at(-1)!.position);
    const later = crypto.randomUUID();
    await sql('insert into outbox (topic, aggregate_id, customer_id, version, payload, created_at) values (?, ?, ?, 1, ?::jsonb, now())', [
      ORDER_STATUS_TOPIC,
      later,
      customerId,
      JSON.stringify({ orderId: later, customerId, version: 1, from: null, to: 'PENDING', at: new Date().toISOString(), actor: null, reason: null }),
    ]);
    await eventually(async () => expect((await log.readAfter(end, {}, 10)).map((c) => c.orderId)).toEqual([later]));
    expect((await log.readAfter(null, { customerId }, 10)).map((c) => c.orderId)).toEqual([published, waiting, claimed, legacyOrder, later]);
  });
});
