import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../../../src/platform/errors.ts';
import type { OpContext } from '../../../../../src/platform/op-context.ts';
import type { OrderStatusChange } from '../../../../../src/modules/orders/domain/order.ts';
import { createWatchOrderStatus } from '../../../../../src/modules/orders/application/watch-order-status.ts';
import { adminOp, anonymousOp, customerOp, errorOf, seedOrder, setUpOrders, valueOf, writeChangesSilently } from '../../../../fakes/orders.ts';

const ALICE = 'cust-alice';
const BOB = 'cust-bob';

function setUp() {
  const world = setUpOrders();
  const pending = seedOrder(world.store, { customerId: ALICE, id: 'alice-pending' });
  const shipped = seedOrder(world.store, { customerId: ALICE, id: 'alice-shipped', path: ['PAID', 'SHIPPED'] });
  const bobs = seedOrder(world.store, { customerId: BOB, id: 'bob-paid', path: ['PAID'] });
  return { ...world, pending, shipped, bobs, watch: createWatchOrderStatus({ reader: world.store, events: world.events }) };
}

async function open(watch: ReturnType<typeof setUp>['watch'], op: OpContext, input: { orderId?: string | null; afterVersion?: number | null }) {
  return valueOf(await watch(op, input))[Symbol.asyncIterator]();
}

/** The next change; fails the test when the stream ended. */
async function nextChange(stream: AsyncIterator<OrderStatusChange>): Promise<OrderStatusChange> {
  const result = await stream.next();
  if (result.done) throw new Error('the stream ended');
  return result.value;
}

const tag = (change: OrderStatusChange) => `${change.orderId}@${change.version}`;

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

  it('answers VALIDATION_FAILED on afterVersion without orderId', async () => {
    const { watch, events } = setUp();

    const error = errorOf(await watch(customerOp(ALICE), { afterVersion: 0 }));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([['afterVersion']]);
    expect(events.subscriberCount).toBe(0);
  });

  it.each([-1, 1.5])('answers VALIDATION_FAILED on afterVersion %s', async (afterVersion) => {
    const { watch, pending } = setUp();

    const error = errorOf(await watch(customerOp(ALICE), { orderId: pending.id, afterVersion }));

    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([['afterVersion']]);
  });
});

describe('watchOrderStatus: one order', () => {
  it('with afterVersion 0 replays versions 1..n in order, then goes live without yielding a replayed version again', async () => {
    const { watch, events, store, shipped } = setUp();
    const history = store.historyOf(shipped.id);

    const stream = await open(watch, customerOp(ALICE), { orderId: shipped.id, afterVersion: 0 });

    expect(await nextChange(stream)).toEqual(history[0]);
    expect(await nextChange(stream)).toEqual(history[1]);
    expect(await nextChange(stream)).toEqual(history[2]);
    // A late duplicate of something already replayed…
    await events.publish(history[1]!);
    await events.publish(history[2]!);
    // …then a real new change.
    const [delivered] = await writeChangesSilently(store, shipped.id, ['DELIVERED']);
    await events.publish(delivered!);

    expect(await nextChange(stream)).toEqual(delivered);
    await stream.return?.();
  });

  it('yields once a change committed and published after subscribing but before the replay read', async () => {
    const { watch, events, store, pending } = setUp();

    const stream = await open(watch, customerOp(ALICE), { orderId: pending.id, afterVersion: 0 });
    // Between the subscription and the first next(): it lands in the live buffer and in the history.
    const [paid] = await writeChangesSilently(store, pending.id, ['PAID'], 'system:payments');
    await events.publish(paid!);
    const [shippedChange] = await writeChangesSilently(store, pending.id, ['SHIPPED']);
    await events.publish(shippedChange!);

    expect((await nextChange(stream)).version).toBe(1);
    expect(await nextChange(stream)).toEqual(paid);
    expect(await nextChange(stream)).toEqual(shippedChange);
    const [delivered] = await writeChangesSilently(store, pending.id, ['DELIVERED']);
    await events.publish(delivered!);
    expect(await nextChange(stream)).toEqual(delivered);
    await stream.return?.();
  });

  it('with afterVersion n replays only later versions', async () => {
    const { watch, store, shipped } = setUp();

    const stream = await open(watch, customerOp(ALICE), { orderId: shipped.id, afterVersion: 2 });

    expect(await nextChange(stream)).toEqual(store.historyOf(shipped.id)[2]);
    await stream.return?.();
  });

  it('without afterVersion is live only, from the current version on', async () => {
    const { watch, events, store, shipped } = setUp();

    const stream = await open(watch, customerOp(ALICE), { orderId: shipped.id });
    await events.publish(store.historyOf(shipped.id)[2]!); // v3, already the current version
    const [delivered] = await writeChangesSilently(store, shipped.id, ['DELIVERED']);
    await events.publish(delivered!);

    expect(await nextChange(stream)).toEqual(delivered);
    await stream.return?.();
  });

  it('fills a gap in the live stream from the history (v3 published while v2 was never seen: v2 then v3), and skips v2 arriving late', async () => {
    const { watch, events, store, pending } = setUp();
    const stream = await open(watch, customerOp(ALICE), { orderId: pending.id }); // last = 1
    const [v2, v3] = await writeChangesSilently(store, pending.id, ['PAID', 'SHIPPED']);

    const next = nextChange(stream);
    await events.publish(v3!); // v2's publish is lost or late

    expect(await next).toEqual(v2);
    expect(await nextChange(stream)).toEqual(v3);
    await events.publish(v2!); // late arrival: already yielded
    const [v4] = await writeChangesSilently(store, pending.id, ['DELIVERED']);
    await events.publish(v4!);
    expect(await nextChange(stream)).toEqual(v4);
    await stream.return?.();
  });

  it('after the replay, a live v4 arriving while v3 is only in the history yields v3 then v4', async () => {
    const { watch, events, store, pending } = setUp();
    const stream = await open(watch, customerOp(ALICE), { orderId: pending.id, afterVersion: 0 });
    expect((await nextChange(stream)).version).toBe(1); // replay done: last = 1
    const [v2, v3, v4] = await writeChangesSilently(store, pending.id, ['PAID', 'SHIPPED', 'DELIVERED']);
    await events.publish(v2!);
    expect(await nextChange(stream)).toEqual(v2); // last = 2

    await events.publish(v4!); // v3 never published

    expect(await nextChange(stream)).toEqual(v3);
    expect(await nextChange(stream)).toEqual(v4);
    await stream.return?.();
  });

  it("ignores other orders' changes", async () => {
    const { watch, events, store, pending, shipped, bobs } = setUp();
    const stream = await open(watch, adminOp(), { orderId: pending.id });

    await events.publish({ ...store.historyOf(shipped.id)[2]!, version: 9 });
    await events.publish({ ...store.historyOf(bobs.id)[1]!, version: 9 });
    const [paid] = await writeChangesSilently(store, pending.id, ['PAID']);
    await events.publish(paid!);

    expect(await nextChange(stream)).toEqual(paid);
    await stream.return?.();
  });

  it('ends when op.signal aborts, also while waiting, and stops listening', async () => {
    const { watch, events, pending } = setUp();
    const controller = new AbortController();
    const stream = await open(watch, customerOp(ALICE, { signal: controller.signal }), { orderId: pending.id, afterVersion: 0 });
    expect((await nextChange(stream)).version).toBe(1);

    const waiting = stream.next();
    controller.abort();

    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(events.subscriberCount).toBe(0);
  });

  it('stops listening when the consumer stops', async () => {
    const { watch, events, pending } = setUp();
    const stream = await open(watch, customerOp(ALICE), { orderId: pending.id, afterVersion: 0 });
    await nextChange(stream);
    expect(events.subscriberCount).toBe(1);

    await stream.return?.();

    expect(events.subscriberCount).toBe(0);
  });
});

describe('watchOrderStatus: every order the viewer may see', () => {
  it("gives a customer their own orders' changes and skips other customers'", async () => {
    const { watch, events, store, pending, bobs } = setUp();
    const stream = await open(watch, customerOp(ALICE), {});

    const first = stream.next();
    const [bobShipped] = await writeChangesSilently(store, bobs.id, ['SHIPPED']);
    await events.publish(bobShipped!);
    const [alicePaid] = await writeChangesSilently(store, pending.id, ['PAID'], 'system:payments');
    await events.publish(alicePaid!);

    expect((await first).value).toEqual(alicePaid);
    // A duplicate is skipped; the next own change comes through.
    await events.publish(alicePaid!);
    const [aliceShipped] = await writeChangesSilently(store, pending.id, ['SHIPPED']);
    await events.publish(aliceShipped!);
    expect(tag(await nextChange(stream))).toBe(tag(aliceShipped!));
    await stream.return?.();
  });

  it("gives an admin everyone's changes", async () => {
    const { watch, events, store, pending, bobs } = setUp();
    const stream = await open(watch, adminOp(), {});

    const first = stream.next();
    const [bobShipped] = await writeChangesSilently(store, bobs.id, ['SHIPPED']);
    await events.publish(bobShipped!);
    const [alicePaid] = await writeChangesSilently(store, pending.id, ['PAID']);
    await events.publish(alicePaid!);

    expect((await first).value).toEqual(bobShipped);
    expect(await nextChange(stream)).toEqual(alicePaid);
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
});
