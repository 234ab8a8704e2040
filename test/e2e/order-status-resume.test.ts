import type { ExecutionResult } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OrderDocument,
  OrderStatusResumeDocument,
  PlaceOrderDocument,
  ProductsDocument,
  UpdateOrderStatusDocument,
  type OrderStatus,
  type OrderStatusResumeSubscription,
  type OrderStatusResumeSubscriptionVariables,
} from '../generated/operations.ts';
import { collect, startTestApp, type EventStream, type TestApp } from '../support/app.ts';
import { activeSubscriptions, untilActiveSubscriptions } from '../support/metrics.ts';

// Issue 14 / ADR 0012: order status streams resume from a cursor over graphql-ws, as a client app
// does after a dropped socket: what was committed while it was away arrives once, in order, then
// the live changes; `snapshot: true` closes the query/subscribe race; a cursor the log no longer
// covers is refused (CURSOR_EXPIRED), never answered with a silent gap.

type Result = ExecutionResult<OrderStatusResumeSubscription>;
type Change = OrderStatusResumeSubscription['orderStatusChanged'];

let app: TestApp;
let admin: string;
let alice: string;
let bob: string;
let productId: string;
/** An admin's all-orders stream for the whole file: the live events, hence cursors, of every change. */
let watcher: EventStream<Result>;

beforeAll(async () => {
  app = await startTestApp({ env: { RECONCILER_INTERVAL_MS: '3600000' } });
  admin = await app.demoToken('admin');
  alice = await app.demoToken('basic');
  bob = await app.demoToken('premium');
  const products = await app.execute(ProductsDocument, { first: 100 }, { token: alice });
  productId = products.data!.products.edges.find((e) => e.node.sku === 'PEN-GEL')!.node.id;
  watcher = await follow(admin, {});
});
afterAll(() => app?.stop());

/** Places an order (PENDING, then PAID once the simulated payment succeeds). @returns its id. */
async function placeOrder(token: string): Promise<string> {
  const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } }, { token });
  if (placed.data?.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
  return placed.data.placeOrder.order.id;
}

async function move(orderId: string, status: OrderStatus, expectedVersion: number): Promise<void> {
  const moved = await app.execute(UpdateOrderStatusDocument, { input: { orderId, status, expectedVersion } }, { token: admin });
  if (moved.data?.updateOrderStatus.__typename !== 'UpdateOrderStatusSuccess') throw new Error(JSON.stringify(moved));
}

/** Subscribes over a fresh graphql-ws socket and resolves once the server listens for its events. */
async function follow(token: string, variables: OrderStatusResumeSubscriptionVariables): Promise<EventStream<Result>> {
  const before = await activeSubscriptions(app.running.url);
  const stream = collect(app.wsClient(token), OrderStatusResumeDocument, variables);
  await untilActiveSubscriptions(app.running.url, before + 1);
  return stream;
}

/** The changes of a stream's events (failing on an event without data). */
const changesOf = (events: readonly Result[]): Change[] => events.map((event) => event.data!.orderStatusChanged);
const tag = (change: Change) => `${change.order.id}@${change.version}`;

/** Waits until the stream holds `count` events of these orders; @returns those changes, in arrival order. */
async function changesOfOrders(stream: EventStream<Result>, orderIds: readonly string[], count: number): Promise<Change[]> {
  const mine = () => changesOf(stream.events).filter((change) => orderIds.includes(change.order.id));
  while (mine().length < count) await stream.waitFor(stream.events.length + 1, 15_000);
  return mine();
}

/**
 * The change `version` of `orderId` once the live streams have it (its cursor is then a safe
 * resume point for every stream: below the commit horizon, ADR 0012).
 */
async function delivered(orderId: string, version: number): Promise<Change> {
  const changes = await changesOfOrders(watcher, [orderId], version);
  return changes.find((change) => change.version === version)!;
}

/**
 * The error of a subscription the server refused: graphql-js delivers a failed subscribe as one
 * result with errors and no data, then completes.
 */
async function refusal(stream: EventStream<Result>): Promise<{ message: string; extensions?: Record<string, unknown> }> {
  await stream.done;
  expect(stream.events).toHaveLength(1);
  expect(stream.events[0]!.data ?? null).toBeNull();
  const error = stream.events[0]!.errors?.[0];
  if (!error) throw new Error(`no error in ${JSON.stringify(stream.events)}`);
  return { message: error.message, extensions: error.extensions as Record<string, unknown> | undefined };
}

/**
 * A cursor like `cursor` whose change was written at `writtenAt`. The cursor is opaque to clients;
 * this test knows its layout (base64url of: format byte, txId u64, id u64, write time u32 seconds,
 * big-endian) to make one older than the retention window without waiting a week.
 */
function cursorWrittenAt(cursor: string, writtenAt: Date): string {
  const bytes = Buffer.from(cursor, 'base64url');
  bytes.writeUInt32BE(Math.floor(writtenAt.getTime() / 1_000), 17);
  return bytes.toString('base64url');
}

describe('orderStatusChanged(after:) over graphql-ws', () => {
  it('all orders: the changes committed while disconnected arrive once each, in log order, then the live ones; every event carries its cursor in data and extensions', async () => {
    const first = await follow(admin, {});
    const orderA = await placeOrder(alice);
    const seen = await changesOfOrders(first, [orderA], 2);
    expect(seen.map((c) => c.to)).toEqual(['PENDING', 'PAID']);
    for (const event of first.events) expect(event.extensions).toMatchObject({ cursor: event.data!.orderStatusChanged.cursor, version: event.data!.orderStatusChanged.version });
    const lastCursor = first.events.at(-1)!.data!.orderStatusChanged.cursor!;
    first.unsubscribe();

    // Away: four changes of two orders, by two customers.
    await move(orderA, 'SHIPPED', 2);
    const orderB = await placeOrder(bob);
    await move(orderA, 'DELIVERED', 3);

    const resumed = await follow(admin, { after: lastCursor });
    const replayed = await changesOfOrders(resumed, [orderA, orderB], 4);
    await move(orderB, 'SHIPPED', 2);
    const all = await changesOfOrders(resumed, [orderA, orderB], 5);

    expect(replayed.map(tag)).toEqual([`${orderA}@3`, `${orderB}@1`, `${orderB}@2`, `${orderA}@4`]);
    expect(all.map(tag)).toEqual([...replayed.map(tag), `${orderB}@3`]);
    const cursors = changesOf(resumed.events).map((c) => c.cursor);
    expect(cursors.every((c) => typeof c === 'string')).toBe(true);
    expect(new Set([...cursors, lastCursor]).size).toBe(cursors.length + 1);
    for (const event of resumed.events) expect(event.extensions?.cursor).toBe(event.data!.orderStatusChanged.cursor);
    expect(resumed.errors).toEqual([]);
    resumed.unsubscribe();
  });

  it("a customer's replay holds only their own orders' changes, however many of others' are in the log", async () => {
    const mark = await placeOrder(alice);
    const from = (await delivered(mark, 2)).cursor!;
    const bobs = [await placeOrder(bob), await placeOrder(bob)];
    const alices = await placeOrder(alice);
    await move(bobs[0]!, 'SHIPPED', 2);
    await move(alices, 'SHIPPED', 2);

    const stream = await follow(alice, { after: from });
    const got = await changesOfOrders(stream, [alices], 3);

    expect(got.map(tag)).toEqual([1, 2, 3].map((v) => `${alices}@${v}`));
    // Everything the replay gave Alice is hers: none of Bob's orders, before or after hers.
    expect(changesOf(stream.events).filter((c) => bobs.includes(c.order.id))).toEqual([]);
    expect(new Set(changesOf(stream.events).map((c) => c.order.customer.id)).size).toBe(1);
    stream.unsubscribe();
  });

  it('one order: resumes after a cursor with that order only, then goes live', async () => {
    const orderId = await placeOrder(alice);
    const other = await placeOrder(alice);
    const created = await delivered(orderId, 1);
    await move(orderId, 'SHIPPED', 2);
    await move(other, 'SHIPPED', 2);

    const stream = await follow(alice, { orderId, after: created.cursor });
    await changesOfOrders(stream, [orderId], 2);
    await move(orderId, 'DELIVERED', 3);
    const got = await changesOfOrders(stream, [orderId], 3);

    expect(changesOf(stream.events).map(tag)).toEqual([2, 3, 4].map((v) => `${orderId}@${v}`));
    expect(got.map((c) => c.to)).toEqual(['PAID', 'SHIPPED', 'DELIVERED']);
    for (const event of stream.events) expect(event.extensions).toMatchObject({ cursor: event.data!.orderStatusChanged.cursor, version: event.data!.orderStatusChanged.version });
    stream.unsubscribe();
  });

  it('refuses a cursor older than the retention window with CURSOR_EXPIRED, for both streams', async () => {
    const orderId = await placeOrder(alice);
    const created = await delivered(orderId, 1);
    const expired = cursorWrittenAt(created.cursor!, new Date(Date.now() - app.config.orderLog.retentionMs - 60_000));

    for (const variables of [{ after: expired }, { orderId, after: expired }]) {
      const error = await refusal(collect(app.wsClient(alice), OrderStatusResumeDocument, variables));
      expect(error.extensions?.code).toBe('CURSOR_EXPIRED');
      expect(error.message).toMatch(/retention window/);
    }
  });

  it('refuses a malformed cursor with VALIDATION_FAILED naming `after`', async () => {
    const error = await refusal(collect(app.wsClient(alice), OrderStatusResumeDocument, { after: 'not-a-cursor' }));

    expect(error.extensions).toMatchObject({ code: 'VALIDATION_FAILED', fields: [{ path: ['after'], message: expect.any(String) }] });
  });
});

describe('orderStatusChanged(orderId, snapshot: true) over graphql-ws', () => {
  it('starts with the current state, marked as the snapshot, even when a change lands between the query and the subscription; then every later change once', async () => {
    const orderId = await placeOrder(alice);
    const queried = await app.execute(OrderDocument, { id: orderId }, { token: alice });
    expect(queried.data!.order).toMatchObject({ status: 'PAID', version: 2 });
    // Committed after the client's query, before its subscription: what the race used to lose.
    await move(orderId, 'SHIPPED', 2);
    const shipped = await delivered(orderId, 3);

    const stream = await follow(alice, { orderId, snapshot: true });
    const [snapshot] = await changesOfOrders(stream, [orderId], 1);
    await move(orderId, 'DELIVERED', 3);
    const got = await changesOfOrders(stream, [orderId], 2);

    expect(snapshot).toMatchObject({ version: 3, from: 'PAID', to: 'SHIPPED', snapshot: true, order: { id: orderId, status: 'SHIPPED', version: 3 } });
    expect(snapshot!.cursor).toBe(shipped.cursor);
    expect(got.map((c) => [c.version, c.to, c.snapshot])).toEqual([
      [3, 'SHIPPED', true],
      [4, 'DELIVERED', false],
    ]);
    expect(stream.events[0]!.extensions).toMatchObject({ cursor: snapshot!.cursor, version: 3 });
    stream.unsubscribe();
  });

  it('refuses snapshot without orderId with VALIDATION_FAILED naming `snapshot`', async () => {
    const error = await refusal(collect(app.wsClient(alice), OrderStatusResumeDocument, { snapshot: true }));

    expect(error.extensions).toMatchObject({ code: 'VALIDATION_FAILED', fields: [{ path: ['snapshot'], message: expect.any(String) }] });
  });
});
