import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderStatusChangedDocument, OrderStatusResumeDocument, PlaceOrderDocument, ProductsDocument, UpdateOrderStatusDocument } from '../generated/operations.ts';
import { collect, startTestApp, type EventStream, type TestApp } from '../support/app.ts';
import { activeSubscriptions, untilActiveSubscriptions } from '../support/metrics.ts';

// Issue 6: an event is executed once per (document, variables, audience), not once per
// subscriber, so its cost in SQL statements does not grow with the number of sockets.
let app: TestApp;
let admin: string;
let owner: string;
let stranger: string;
let productId: string;
let statements = 0;

beforeAll(async () => {
  app = await startTestApp({
    env: { ORDER_LOG_POLL_MS: '60000', RECONCILER_INTERVAL_MS: '3600000' },
    app: {
      onQuery: (message) => {
        // The instance's order-log reader reads once per ring (and on its timer), however many
        // sockets follow: not what this test counts. Its statements (and the pruner's) are the
        // only ones bounded by the commit horizon.
        if (!message.includes('pg_snapshot_xmin')) statements += 1;
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

/** Ships `orderId` and returns the SQL statements counted until every stream has its event. */
async function shipAndCount(orderId: string, streams: EventStream<unknown>[]): Promise<number> {
  const before = streams.map((s) => s.events.length);
  statements = 0;
  const shipped = await app.execute(UpdateOrderStatusDocument, { input: { orderId, status: 'SHIPPED', expectedVersion: 2 } }, { token: admin });
  expect(shipped.data?.updateOrderStatus.__typename).toBe('UpdateOrderStatusSuccess');
  await Promise.all(streams.map((s, i) => s.waitFor(before[i]! + 1, 10_000)));
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

  it('shares one execution between sockets that resumed from different cursors', async () => {
    // Where a stream starts (`after`) does not change how an event resolves: resumed sockets, each
    // with its own cursor, must still share each live event (issue 14's chaos run: they did not).
    const open = await activeSubscriptions(app.running.url);
    const probe = collect(app.wsClient(admin), OrderStatusResumeDocument, {});
    await untilActiveSubscriptions(app.running.url, open + 1);
    const orderC = await placeOrder();
    await probe.waitFor(2, 10_000);
    const cursors = probe.events.map((e) => (e as { data?: { orderStatusChanged: { cursor: string | null } } }).data?.orderStatusChanged.cursor);
    expect(cursors.every((c) => typeof c === 'string')).toBe(true);
    const alone = await shipAndCount(orderC, [probe]);

    const orderD = await placeOrder();
    await probe.waitFor(5, 10_000); // C shipped, D created and paid
    const resumed = Array.from({ length: 10 }, (_, i) => collect(app.wsClient(admin), OrderStatusResumeDocument, { after: cursors[i % 2] }));
    // Each replays from its cursor (C PENDING or C PAID) through D's PAID, then goes live.
    await Promise.all(resumed.map((s, i) => s.waitFor(i % 2 === 0 ? 4 : 3, 10_000)));
    const crowd = await shipAndCount(orderD, [probe, ...resumed]);
    for (const stream of resumed) expect(stream.errors).toEqual([]);
    expect(crowd).toBeLessThanOrEqual(alone);
  });
});
