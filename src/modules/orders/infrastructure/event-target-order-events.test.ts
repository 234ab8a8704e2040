import { describe, expect, it } from 'vitest';
import type { OrderStatusChange } from '../domain/order.ts';
import { EventTargetOrderEvents, toWireChange } from './event-target-order-events.ts';

const change = (orderId: string, version: number): OrderStatusChange => ({
  orderId,
  customerId: 'c1',
  version,
  from: 'PENDING',
  to: 'PAID',
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, version)),
  actor: null,
  reason: null,
});

async function take(stream: AsyncIterable<OrderStatusChange>, count: number): Promise<string[]> {
  const iterator = stream[Symbol.asyncIterator]();
  const seen: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const next = await iterator.next();
    if (next.done) break;
    seen.push(`${next.value.orderId}@${next.value.version}`);
  }
  return seen;
}

describe('EventTargetOrderEvents', () => {
  it.each([
    ['in order', [['a', 1], ['a', 2], ['b', 1]], ['a@1', 'a@2', 'b@1']],
    ['a repeat (the relay publishes at least once)', [['a', 1], ['a', 1], ['a', 2]], ['a@1', 'a@2']],
    ['an older version after a newer one', [['a', 2], ['a', 1], ['a', 3]], ['a@2', 'a@3']],
    ['orders independently', [['a', 5], ['b', 1], ['a', 5], ['b', 2]], ['a@5', 'b@1', 'b@2']],
  ] as const)('delivers %s to every subscriber once, as the same object', async (_label, published, expected) => {
    const events = new EventTargetOrderEvents(new EventTarget());
    const controller = new AbortController();
    const first = events.subscribe(controller.signal);
    const second = events.subscribe(controller.signal);
    for (const [orderId, version] of published) await events.publishWire(toWireChange(change(orderId, version)));
    expect(await take(first, expected.length)).toEqual(expected);
    expect(await take(second, expected.length)).toEqual(expected);
    controller.abort();
  });

  it('hands every subscriber the same change object (shared subscription results rely on it)', async () => {
    const events = new EventTargetOrderEvents(new EventTarget());
    const controller = new AbortController();
    const [a, b] = [events.subscribe(controller.signal), events.subscribe(controller.signal)];
    await events.publish(change('x', 1));
    const [left, right] = await Promise.all([a[Symbol.asyncIterator]().next(), b[Symbol.asyncIterator]().next()]);
    expect(left.value).toBe(right.value);
    controller.abort();
  });
});
