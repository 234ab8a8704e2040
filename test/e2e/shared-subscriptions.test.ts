import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderStatusChangedDocument, PlaceOrderDocument, ProductsDocument, UpdateOrderStatusDocument } from '../generated/operations.ts';
import { collect, startTestApp, type EventStream, type TestApp } from '../support/app.ts';
import { eventually } from '../support/eventually.ts';
import { untilActiveSubscriptions } from '../support/metrics.ts';
import { countWhere } from '../payments/support.ts';

// Issue 6: an event is executed once per (document, variables, audience), not once per
// subscriber, so its cost in SQL statements does not grow with the number of sockets.
let app: TestApp;
let admin: string;
let owner: string;
let stranger: string;
let productId: string;
let statements = 0;
/**
 * False from the outbox relay's marking of a claimed batch until a commit is logged: once the
 * marked rows are visible as published and this is true, the relay's round has issued its last
 * statement (it ends without another claim; the poll interval is a minute).
 */
let relayCommitted = true;

beforeAll(async () => {
  app = await startTestApp({
    env: { OUTBOX_POLL_INTERVAL_MS: '60000', RECONCILER_INTERVAL_MS: '3600000' },
    app: {
      onQuery: (message) => {
        statements += 1;
        const sql = message.replace(/\x1b\[[0-9;]*m/g, '');
        if (sql.includes('update outbox set published_at')) relayCommitted = false;
        else if (sql.startsWith('[query] commit')) relayCommitted = true;
      },
    },
  });
  admin = await app.demoToken('admin');
  owner = await app.demoToken('basic');
  stranger = await app.demoToken('premium');
  const products = await app.execute(ProductsDocument, { first: 100 }, { token: owner });
  productId = products.data!.products.edges.find((e) => e.node.sku === 'PEN-GEL')!.node.id;
});
afterAll(() => app?.stop());

async function placeOrder(): Promise<string> {
  const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } }, { token: owner });
  if (placed.data?.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
  return placed.data.placeOrder.order.id;
}

/** Waits until the relay has published every committed change and logged its last statement. */
const relayIdle = () =>
  eventually(async () => (await countWhere(app.db.url, 'select count(*) as n from outbox where published_at is null')) === 0 && relayCommitted, {
    what: 'the outbox relay to finish',
  });

/** Ships `orderId` and returns the SQL statements counted until every stream has its event. */
async function shipAndCount(orderId: string, streams: EventStream<unknown>[]): Promise<number> {
  const before = streams.map((s) => s.events.length);
  await relayIdle();
  statements = 0;
  const shipped = await app.execute(UpdateOrderStatusDocument, { input: { orderId, status: 'SHIPPED', expectedVersion: 2 } }, { token: admin });
  expect(shipped.data?.updateOrderStatus.__typename).toBe('UpdateOrderStatusSuccess');
  await Promise.all(streams.map((s, i) => s.waitFor(before[i]! + 1, 10_000)));
  // The relay publishes before it marks and commits: its last statements may follow the events.
  await relayIdle();
  return statements;
}

describe('shared subscription events', () => {
  it('costs the same SQL for 20 admin sockets as for one, and one execution more per further audience', async () => {
    const first = collect(app.wsClient(admin), OrderStatusChangedDocument, {});
    await untilActiveSubscriptions(app.running.url, 1);
    const orderA = await placeOrder();
    await first.waitFor(2, 10_000); // PENDING, PAID
    const alone = await shipAndCount(orderA, [first]);

    const admins = [first, ...Array.from({ length: 19 }, () => collect(app.wsClient(admin), OrderStatusChangedDocument, {}))];
    const owners = [0, 1].map(() => collect(app.wsClient(owner), OrderStatusChangedDocument, {}));
    const strangers = [0, 1].map(() => collect(app.wsClient(stranger), OrderStatusChangedDocument, {}));
    await untilActiveSubscriptions(app.running.url, 24);
    const orderB = await placeOrder();
    await Promise.all([...admins.slice(1), ...owners].map((s) => s.waitFor(2, 10_000)));
    const crowd = await shipAndCount(orderB, [...admins, ...owners]);

    for (const stream of [...admins, ...owners]) {
      const last = stream.events.at(-1) as { data?: { orderStatusChanged: { version: number; order: { id: string; status: string } } } };
      expect(last.data?.orderStatusChanged).toMatchObject({ version: 3, order: { id: orderB, status: 'SHIPPED' } });
      expect(stream.errors).toEqual([]);
    }
    // Another customer's sockets see nothing of it.
    for (const stream of strangers) expect(stream.events).toEqual([]);
    // The admins' 20 sockets share one execution (one order read); the owner's two share another.
    expect(crowd).toBeLessThanOrEqual(alone + 1);
  });
});
