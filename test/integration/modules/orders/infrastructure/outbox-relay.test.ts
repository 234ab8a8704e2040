import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../../../support/eventually.ts';
import { createStatementCounter } from '../../../../support/statement-counter.ts';
import { useTestDatabase } from '../../../../support/test-database.ts';
import { startOutboxRelay } from '../../../../../src/modules/orders/infrastructure/outbox-relay.ts';
import { ORDER_STATUS_TOPIC, type WireChange } from '../../../../../src/modules/orders/infrastructure/event-target-order-events.ts';
import { createLogger } from '../../../../../src/platform/logger.ts';

// The relay on a real database: every committed row published once, in order per order, woken
// by nudges alone (the poll interval is far longer than any wait here).

const database = useTestDatabase();

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** Commits one outbox row for `orderId` at `version`, as a status change does. */
async function commitChange(orderId: string, version: number): Promise<void> {
  const change: WireChange = { orderId, customerId: orderId, version, from: null, to: 'PENDING', at: new Date().toISOString(), actor: null, reason: null };
  await database.orm.em.fork().getConnection().execute('insert into outbox (topic, aggregate_id, version, payload, created_at) values (?, ?, ?, ?::jsonb, now())', [
    ORDER_STATUS_TOPIC,
    orderId,
    version,
    JSON.stringify(change),
  ]);
}

function relayInto(published: WireChange[], options: { concurrency: number; batchSize: number; publishDelayMs?: number }) {
  const relay = startOutboxRelay({
    em: () => database.orm.em.fork(),
    sink: {
      async publishWire(change) {
        // Holding a claim a little while lets the other worker meet it (rows queued behind it).
        if (options.publishDelayMs) await new Promise((resolve) => setTimeout(resolve, options.publishDelayMs));
        published.push(change);
      },
    },
    logger: createLogger('silent'),
    concurrency: options.concurrency,
    batchSize: options.batchSize,
    pollIntervalMs: 60_000,
  });
  stops.push(() => relay.stop());
  return relay;
}

describe('outbox relay', () => {
  it('publishes versions committed back to back in order, woken by one nudge each, without waiting for a poll', async () => {
    const published: WireChange[] = [];
    const relay = relayInto(published, { concurrency: 2, batchSize: 100, publishDelayMs: 30 });
    const orders = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    for (let version = 1; version <= 4; version += 1) {
      for (const orderId of orders) {
        await commitChange(orderId, version);
        relay.nudge();
      }
    }
    await eventually(() => published.length >= 12, { timeoutMs: 5_000, intervalMs: 10, what: '12 published changes' });
    for (const orderId of orders) {
      expect(published.filter((c) => c.orderId === orderId).map((c) => c.version)).toEqual([1, 2, 3, 4]);
    }
    expect(published).toHaveLength(12);
  });

  it('drains more rows than one batch after a single nudge', async () => {
    const published: WireChange[] = [];
    const relay = relayInto(published, { concurrency: 1, batchSize: 10 });
    const orderId = crypto.randomUUID();
    for (let version = 1; version <= 35; version += 1) await commitChange(orderId, version);
    relay.nudge();
    await eventually(() => published.length >= 35, { timeoutMs: 5_000, intervalMs: 10, what: '35 published changes' });
    expect(published.map((c) => c.version)).toEqual(Array.from({ length: 35 }, (_, i) => i + 1));
  });

  it('claims, publishes and marks a batch in two statements (no transaction held open), and finds nothing in one', async () => {
    const published: WireChange[] = [];
    // No workers: only the batches asked for here run, each inside the counter's context.
    const relay = relayInto(published, { concurrency: 0, batchSize: 10 });
    const orders = [crypto.randomUUID(), crypto.randomUUID()];
    for (const orderId of orders) for (let version = 1; version <= 2; version += 1) await commitChange(orderId, version);
    const counter = createStatementCounter();
    counter.install();
    try {
      const first = await counter.measure(() => relay.relayOnce());
      const second = await counter.measure(() => relay.relayOnce());
      const empty = await counter.measure(() => relay.relayOnce());
      // A batch takes one row per order (the next version waits for the first to be marked).
      expect([first.result, second.result, empty.result]).toEqual([2, 2, 0]);
      expect([first.statements, second.statements, empty.statements]).toEqual([2, 2, 1]);
      expect(first.texts.some((sql) => /^\s*(begin|commit)/i.test(sql))).toBe(false);
    } finally {
      counter.restore();
    }
    for (const orderId of orders) expect(published.filter((c) => c.orderId === orderId).map((c) => c.version)).toEqual([1, 2]);
  });

  it('gives a batch whose publishing failed back at once, and a claim left by a dead worker after it expires', async () => {
    const orderId = crypto.randomUUID();
    await commitChange(orderId, 1);
    let failing = true;
    const published: WireChange[] = [];
    const relay = startOutboxRelay({
      em: () => database.orm.em.fork(),
      sink: {
        async publishWire(change) {
          if (failing) throw new Error('pub/sub down');
          published.push(change);
        },
      },
      logger: createLogger('silent'),
      concurrency: 0,
      batchSize: 10,
      pollIntervalMs: 60_000,
      claimMs: 200,
    });
    await expect(relay.relayOnce()).rejects.toThrow('pub/sub down');
    failing = false;
    expect(await relay.relayOnce()).toBe(1);
    expect(published.map((c) => c.version)).toEqual([1]);

    // A worker that claimed and died: its rows wait for the claim to expire, then go out again.
    await commitChange(orderId, 2);
    await database.orm.em.fork().getConnection().execute("update outbox set claimed_until = now() + interval '300 milliseconds' where aggregate_id = ? and version = 2", [orderId]);
    expect(await relay.relayOnce()).toBe(0);
    await eventually(async () => (await relay.relayOnce()) === 1, { timeoutMs: 5_000, intervalMs: 50, what: 'the expired claim to be taken again' });
    expect(published.map((c) => c.version)).toEqual([1, 2]);
  });
});
