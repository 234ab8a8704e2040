import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../../../src/platform/errors.ts';
import type { OpContext } from '../../../../../src/platform/op-context.ts';
import { CursorExpiredError } from '../../../../../src/modules/orders/domain/errors.ts';
import { decodeCursor, encodeCursor } from '../../../../../src/modules/orders/domain/order-log-cursor.ts';
import type { OrderStatusChange } from '../../../../../src/modules/orders/domain/order.ts';
import type { LoggedChange } from '../../../../../src/modules/orders/application/ports.ts';
import { createWatchOrderStatus, type OrderStatusEvent, type WatchOrderStatusInput } from '../../../../../src/modules/orders/application/watch-order-status.ts';
import {
  FIXED_NOW,
  InMemoryLogReader,
  InMemoryOrderEvents,
  InMemoryOrdersStore,
  LOG_RETENTION_MS,
  adminOp,
  anonymousOp,
  customerOp,
  errorOf,
  fixedClock,
  seedOrder,
  valueOf,
  writeChangesSilently,
} from '../../../../fakes/orders.ts';

const ALICE = 'cust-alice';
const BOB = 'cust-bob';

/**
 * Three orders whose history is in the log, this instance's log reader positioned after it, and
 * the use case over them. `deliver()` lets the reader deliver what was committed since.
 */
function setUp() {
  const store = new InMemoryOrdersStore();
  const events = new InMemoryOrderEvents();
  const pending = seedOrder(store, { customerId: ALICE, id: 'alice-pending', logged: true });
  const shipped = seedOrder(store, { customerId: ALICE, id: 'alice-shipped', path: ['PAID', 'SHIPPED'], logged: true });
  const bobs = seedOrder(store, { customerId: BOB, id: 'bob-paid', path: ['PAID'], logged: true });
  const reader = new InMemoryLogReader(store, events, store.loggedChanges().at(-1)!.position);
  const watch = createWatchOrderStatus({ reader: store, log: store, events, clock: fixedClock(), logRetentionMs: LOG_RETENTION_MS });
  const deliver = async () => {
    reader.ring();
    await reader.idle();
  };
  return { store, events, reader, pending, shipped, bobs, watch, deliver };
}

type World = ReturnType<typeof setUp>;

async function open(watch: World['watch'], op: OpContext, input: WatchOrderStatusInput) {
  return valueOf(await watch(op, input))[Symbol.asyncIterator]();
}

/** The next event; fails the test when the stream ended. */
async function nextEvent(stream: AsyncIterator<OrderStatusEvent>): Promise<OrderStatusEvent> {
  const result = await stream.next();
  if (result.done) throw new Error('the stream ended');
  return result.value;
}

/** The next `count` events. */
async function nextEvents(stream: AsyncIterator<OrderStatusEvent>, count: number): Promise<OrderStatusEvent[]> {
  const events: OrderStatusEvent[] = [];
  for (let i = 0; i < count; i += 1) events.push(await nextEvent(stream));
  return events;
}

/** The same cursor with another format byte (a cursor of a later, unknown format). */
const otherFormat = (cursor: string): string => {
  const bytes = Buffer.from(cursor, 'base64url');
  bytes[0] = 2;
  return bytes.toString('base64url');
};
const tag = (change: OrderStatusChange) => `${change.orderId}@${change.version}`;
const loggedOf = (store: InMemoryOrdersStore, orderId: string): LoggedChange[] => store.loggedChanges().filter((e) => e.orderId === orderId);

describe('watchOrderStatus: refusals', () => {
  it('answers UNAUTHENTICATED to anonymous callers, with or without orderId', async () => {
    const { watch, events, pending } = setUp();

    expect(errorOf(await watch(anonymousOp(), { orderId: pending.id }))).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(errorOf(await watch(anonymousOp(), {}))).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(events.subscriberCount).toBe(0);
  });

  it("answers another customer's order exactly like a missing id (NOT_FOUND), and stops listening", async () => {
    const { watch, events, pending } = setUp();

    const others = errorOf(await watch(customerOp(BOB), { orderId: pending.id, afterVersion: 0 }));
    const missing = errorOf(await watch(customerOp(BOB), { orderId: 'no-such-order', afterVersion: 0 }));

    expect(others).toBeInstanceOf(NotFoundError);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(others.message).toBe(missing.message);
    expect(events.subscriberCount).toBe(0);
  });

  it.each<{ name: string; input: (world: World) => WatchOrderStatusInput; path: string[] }>([
    { name: 'afterVersion without orderId', input: () => ({ afterVersion: 0 }), path: ['afterVersion'] },
    { name: 'afterVersion -1', input: (w) => ({ orderId: w.pending.id, afterVersion: -1 }), path: ['afterVersion'] },
    { name: 'afterVersion 1.5', input: (w) => ({ orderId: w.pending.id, afterVersion: 1.5 }), path: ['afterVersion'] },
    { name: 'snapshot without orderId', input: () => ({ snapshot: true }), path: ['snapshot'] },
    { name: 'snapshot with afterVersion', input: (w) => ({ orderId: w.pending.id, afterVersion: 0, snapshot: true }), path: ['snapshot'] },
    { name: 'after with afterVersion', input: (w) => ({ orderId: w.pending.id, afterVersion: 0, after: w.store.loggedChanges()[0]!.cursor }), path: ['after'] },
    { name: 'a cursor that is no cursor', input: () => ({ after: 'not-a-cursor' }), path: ['after'] },
    { name: 'a cursor of another format', input: (w) => ({ after: otherFormat(w.store.loggedChanges()[0]!.cursor) }), path: ['after'] },
  ])('answers VALIDATION_FAILED on $name, and listens to nothing', async ({ input, path }) => {
    const world = setUp();

    const error = errorOf(await world.watch(customerOp(ALICE), input(world)));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([path]);
    expect(world.events.subscriberCount).toBe(0);
  });

  it('answers CURSOR_EXPIRED on a cursor written before the retention window, for both streams, and listens to nothing', async () => {
    const { watch, events, pending } = setUp();
    const writtenAt = new Date(FIXED_NOW.getTime() - LOG_RETENTION_MS - 1_000);
    const old = encodeCursor({ txId: 5n, id: 1 }, writtenAt);

    const all = errorOf(await watch(customerOp(ALICE), { after: old }));
    const one = errorOf(await watch(customerOp(ALICE), { orderId: pending.id, after: old }));

    expect(all).toBeInstanceOf(CursorExpiredError);
    expect(all).toMatchObject({ code: 'CURSOR_EXPIRED', writtenAt, retentionMs: LOG_RETENTION_MS });
    expect(one).toBeInstanceOf(CursorExpiredError);
    expect(events.subscriberCount).toBe(0);
  });

  it('accepts a cursor written just inside the window', async () => {
    const { watch } = setUp();
    const recent = encodeCursor({ txId: 5n, id: 1 }, new Date(FIXED_NOW.getTime() - LOG_RETENTION_MS + 1_000));

    const stream = await open(watch, customerOp(ALICE), { after: recent });

    await stream.return?.();
  });
});

describe('watchOrderStatus: one order', () => {
  it('with afterVersion 0 replays versions 1..n in order with their cursors, then goes live without yielding a replayed version again', async () => {
    const { watch, events, store, shipped, deliver } = setUp();
    const logged = loggedOf(store, shipped.id);

    const stream = await open(watch, customerOp(ALICE), { orderId: shipped.id, afterVersion: 0 });

    expect(await nextEvents(stream, 3)).toEqual(logged.map(({ position: _, ...event }) => event));
    // A lagging reader delivers what was replayed…
    events.deliver(logged[1]!);
    events.deliver(logged[2]!);
    // …then a real new change.
    const [delivered] = await writeChangesSilently(store, shipped.id, ['DELIVERED']);
    await deliver();

    expect(await nextEvent(stream)).toMatchObject({ ...delivered, cursor: loggedOf(store, shipped.id)[3]!.cursor });
    await stream.return?.();
  });

  it('replays a change whose log entry was pruned with a null cursor', async () => {
    const { watch, store, shipped } = setUp();
    store.prune(new Date(FIXED_NOW.getTime() + 1));

    const stream = await open(watch, customerOp(ALICE), { orderId: shipped.id, afterVersion: 2 });

    expect(await nextEvent(stream)).toEqual({ ...store.historyOf(shipped.id)[2], cursor: null });
    await stream.return?.();
  });

  it('yields once a change committed and delivered after subscribing but before the replay read', async () => {
    const { watch, store, pending, deliver } = setUp();

    const stream = await open(watch, customerOp(ALICE), { orderId: pending.id, afterVersion: 0 });
    // Between the subscription and the first next(): it lands in the live buffer and in the history.
    const [paid] = await writeChangesSilently(store, pending.id, ['PAID'], 'system:payments');
    await deliver();
    const [shippedChange] = await writeChangesSilently(store, pending.id, ['SHIPPED']);
    await deliver();

    expect((await nextEvents(stream, 3)).map(tag)).toEqual([1, 2, 3].map((v) => `${pending.id}@${v}`));
    const [delivered] = await writeChangesSilently(store, pending.id, ['DELIVERED']);
    await deliver();
    expect(await nextEvent(stream)).toMatchObject(delivered!);
    expect([paid, shippedChange].map((c) => c!.version)).toEqual([2, 3]);
    await stream.return?.();
  });

  it('with afterVersion n replays only later versions', async () => {
    const { watch, store, shipped } = setUp();

    const stream = await open(watch, customerOp(ALICE), { orderId: shipped.id, afterVersion: 2 });

    expect(await nextEvent(stream)).toMatchObject(store.historyOf(shipped.id)[2]!);
    await stream.return?.();
  });

  it('without a starting point is live only, from the current version on', async () => {
    const { watch, events, store, shipped, deliver } = setUp();

    const stream = await open(watch, customerOp(ALICE), { orderId: shipped.id });
    events.deliver(loggedOf(store, shipped.id)[2]!); // v3, already the current version
    const [delivered] = await writeChangesSilently(store, shipped.id, ['DELIVERED']);
    await deliver();

    expect(await nextEvent(stream)).toMatchObject(delivered!);
    await stream.return?.();
  });

  it("with after (a cursor of any event) replays that order's later changes from the log, then goes live with no duplicate", async () => {
    const { watch, events, store, pending, bobs, deliver } = setUp();
    const [v2, v3] = await writeChangesSilently(store, pending.id, ['PAID', 'SHIPPED']);
    await writeChangesSilently(store, bobs.id, ['SHIPPED']);
    // The cursor of the creation of another order, written before v2.
    const from = loggedOf(store, bobs.id)[0]!;

    const stream = await open(watch, customerOp(ALICE), { orderId: pending.id, after: from.cursor });

    const replayed = await nextEvents(stream, 2);
    expect(replayed.map(tag)).toEqual([tag(v2!), tag(v3!)]);
    expect(replayed.map((e) => e.cursor)).toEqual(loggedOf(store, pending.id).slice(1).map((e) => e.cursor));
    expect(store.logReads.at(-1)).toMatchObject({ after: from.position, filter: { orderId: pending.id } });
    await deliver(); // the lagging reader delivers v2, v3 (and Bob's change): all dropped
    const [v4] = await writeChangesSilently(store, pending.id, ['DELIVERED']);
    await deliver();
    expect(tag(await nextEvent(stream))).toBe(tag(v4!));
    expect(events.subscriberCount).toBe(1);
    await stream.return?.();
  });

  it('with snapshot first yields the latest change marked as the snapshot, then every later change once', async () => {
    const { watch, store, shipped, deliver } = setUp();

    const stream = await open(watch, customerOp(ALICE), { orderId: shipped.id, snapshot: true });

    expect(await nextEvent(stream)).toEqual({ ...store.historyOf(shipped.id)[2], cursor: loggedOf(store, shipped.id)[2]!.cursor, snapshot: true });
    const [delivered] = await writeChangesSilently(store, shipped.id, ['DELIVERED']);
    await deliver();
    const next = await nextEvent(stream);
    expect(next).toMatchObject(delivered!);
    expect(next.snapshot).toBeUndefined();
    await stream.return?.();
  });

  it.each([
    { when: 'before the order is read', reads: 'findByIds' as const, snapshot: { version: 2, to: 'PAID' }, then: ['SHIPPED'] },
    { when: 'between the order read and the history read', reads: 'findHistorySince' as const, snapshot: { version: 1, to: 'PENDING' }, then: ['PAID', 'SHIPPED'] },
  ])('with snapshot, a change committed $when is either the snapshot or after it, never lost or doubled', async ({ reads, snapshot, then }) => {
    const { watch, store, pending, deliver } = setUp();
    // The stream listens when it is created; the order then moves just before one of its reads.
    const read = store[reads].bind(store) as (...args: unknown[]) => Promise<never>;
    let moved = false;
    Object.assign(store, {
      [reads]: async (...args: unknown[]) => {
        if (!moved) {
          moved = true;
          await writeChangesSilently(store, pending.id, ['PAID']);
          await deliver();
        }
        return read(...args);
      },
    });

    const stream = await open(watch, customerOp(ALICE), { orderId: pending.id, snapshot: true });

    expect(await nextEvent(stream)).toMatchObject({ ...snapshot, snapshot: true });
    const [shippedChange] = await writeChangesSilently(store, pending.id, ['SHIPPED']);
    await deliver();
    const later = await nextEvents(stream, then.length);
    expect(later.map((e) => e.to)).toEqual(then);
    expect(later.at(-1)).toMatchObject(shippedChange!);
    expect(later.every((e) => e.snapshot !== true)).toBe(true);
    await stream.return?.();
  });

  it("ignores other orders' changes", async () => {
    const { watch, store, pending, shipped, bobs, deliver } = setUp();
    const stream = await open(watch, adminOp(), { orderId: pending.id });

    await writeChangesSilently(store, shipped.id, ['DELIVERED']);
    await writeChangesSilently(store, bobs.id, ['SHIPPED']);
    const [paid] = await writeChangesSilently(store, pending.id, ['PAID']);
    await deliver();

    expect(await nextEvent(stream)).toMatchObject(paid!);
    await stream.return?.();
  });

  it('ends when op.signal aborts, also while waiting, and stops listening', async () => {
    const { watch, events, pending } = setUp();
    const controller = new AbortController();
    const stream = await open(watch, customerOp(ALICE, { signal: controller.signal }), { orderId: pending.id, afterVersion: 0 });
    expect((await nextEvent(stream)).version).toBe(1);

    const waiting = stream.next();
    controller.abort();

    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(events.subscriberCount).toBe(0);
  });

  it('stops listening when the consumer stops', async () => {
    const { watch, events, pending } = setUp();
    const stream = await open(watch, customerOp(ALICE), { orderId: pending.id, afterVersion: 0 });
    await nextEvent(stream);
    expect(events.subscriberCount).toBe(1);

    await stream.return?.();

    expect(events.subscriberCount).toBe(0);
  });
});

describe('watchOrderStatus: every order the viewer may see', () => {
  it("gives a customer their own orders' changes, each with its cursor, and skips other customers'", async () => {
    const { watch, store, pending, bobs, deliver } = setUp();
    const stream = await open(watch, customerOp(ALICE), {});

    const first = stream.next();
    await writeChangesSilently(store, bobs.id, ['SHIPPED']);
    const [alicePaid] = await writeChangesSilently(store, pending.id, ['PAID'], 'system:payments');
    await deliver();

    expect((await first).value).toEqual(store.loggedChanges().at(-1));
    expect((await first).value).toMatchObject(alicePaid!);
    const [aliceShipped] = await writeChangesSilently(store, pending.id, ['SHIPPED']);
    await deliver();
    expect(tag(await nextEvent(stream))).toBe(tag(aliceShipped!));
    await stream.return?.();
  });

  it("gives an admin everyone's changes, the very objects the log reader delivered (shared by every subscriber)", async () => {
    const { watch, events, store, pending, bobs, deliver } = setUp();
    const stream = await open(watch, adminOp(), {});

    const first = stream.next();
    const [bobShipped] = await writeChangesSilently(store, bobs.id, ['SHIPPED']);
    const [alicePaid] = await writeChangesSilently(store, pending.id, ['PAID']);
    await deliver();

    expect((await first).value).toBe(events.delivered[0]);
    expect((await first).value).toMatchObject(bobShipped!);
    expect(await nextEvent(stream)).toMatchObject(alicePaid!);
    await stream.return?.();
  });

  it('with after, delivers the changes committed since that cursor once each, in log order, then the live ones', async () => {
    const { watch, events, store, pending, shipped, bobs, deliver } = setUp();
    const before = await open(watch, adminOp(), {});
    const [seen] = await writeChangesSilently(store, pending.id, ['PAID']);
    await deliver();
    const last = await nextEvent(before);
    expect(last).toMatchObject(seen!);
    await before.return?.(); // disconnected
    const missed = [
      ...(await writeChangesSilently(store, bobs.id, ['SHIPPED'])),
      ...(await writeChangesSilently(store, shipped.id, ['DELIVERED'])),
      ...(await writeChangesSilently(store, pending.id, ['SHIPPED'])),
    ];

    const resumed = await open(watch, adminOp(), { after: last.cursor });
    // The reader delivers the missed changes while the replay runs: they must not come twice.
    await deliver();
    const [live] = await writeChangesSilently(store, bobs.id, ['DELIVERED']);
    await deliver();

    const got = await nextEvents(resumed, missed.length + 1);
    expect(got.map(tag)).toEqual([...missed, live!].map(tag));
    expect(new Set(got.map((e) => e.cursor)).size).toBe(got.length);
    expect(store.logReads.at(-1)).toMatchObject({ after: decodeCursor(last.cursor!)!.position, filter: {} });
    expect(events.subscriberCount).toBe(1);
    await resumed.return?.();
  });

  it("a customer's replay reads only their own orders from the log and never yields another customer's change", async () => {
    const { watch, store, pending, bobs, deliver } = setUp();
    const from = store.loggedChanges().at(-1)!;
    await writeChangesSilently(store, bobs.id, ['SHIPPED', 'DELIVERED']);
    const [alicePaid] = await writeChangesSilently(store, pending.id, ['PAID']);

    const stream = await open(watch, customerOp(ALICE), { after: from.cursor });

    expect(tag(await nextEvent(stream))).toBe(tag(alicePaid!));
    expect(store.logReads.at(-1)).toMatchObject({ after: from.position, filter: { customerId: ALICE } });
    // Live, after the replay: Bob's next change is skipped, Alice's comes through.
    await writeChangesSilently(store, bobs.id, ['CANCELLED']);
    const [aliceShipped] = await writeChangesSilently(store, pending.id, ['SHIPPED']);
    await deliver();
    expect(tag(await nextEvent(stream))).toBe(tag(aliceShipped!));
    await stream.return?.();
  });

  it('replays more changes than one log read holds, in order, without a gap at the batch boundary', async () => {
    const { watch, store } = setUp();
    const from = store.loggedChanges().at(-1)!;
    const orders = Array.from({ length: 520 }, () => seedOrder(store, { customerId: ALICE, logged: true }));

    const stream = await open(watch, adminOp(), { after: from.cursor });

    expect((await nextEvents(stream, orders.length)).map((e) => e.orderId)).toEqual(orders.map((o) => o.id));
    expect(store.logReads.filter((r) => r.filter.customerId === undefined && r.after !== null).length).toBeGreaterThanOrEqual(2);
    await stream.return?.();
  });

  it('ends when op.signal aborts and stops listening', async () => {
    const { watch, events } = setUp();
    const controller = new AbortController();
    const stream = await open(watch, customerOp(ALICE, { signal: controller.signal }), {});

    const waiting = stream.next();
    expect(events.subscriberCount).toBe(1);
    controller.abort();

    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(events.subscriberCount).toBe(0);
  });

  it('stops reading the log when it aborts during a replay', async () => {
    const { watch, events, store } = setUp();
    const from = store.loggedChanges().at(-1)!;
    for (let i = 0; i < 3; i += 1) seedOrder(store, { customerId: ALICE, logged: true });
    const controller = new AbortController();
    const stream = await open(watch, adminOp('admin-1', controller.signal), { after: from.cursor });
    await nextEvent(stream);

    controller.abort();

    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(events.subscriberCount).toBe(0);
  });
});
