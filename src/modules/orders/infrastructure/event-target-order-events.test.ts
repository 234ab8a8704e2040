import { describe, expect, it } from 'vitest';
import type { LoggedChange } from '../application/ports.ts';
import { encodeCursor } from '../domain/order-log-cursor.ts';
import { EventTargetOrderEvents } from './event-target-order-events.ts';

let nextId = 0;
const change = (orderId: string, version: number): LoggedChange => {
  nextId += 1;
  const position = { txId: 1_000n + BigInt(nextId), id: nextId };
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, version));
  return { orderId, customerId: 'c1', version, from: 'PENDING', to: 'PAID', at, actor: null, reason: null, position, cursor: encodeCursor(position, at) };
};

async function take(stream: AsyncIterable<LoggedChange>, count: number): Promise<string[]> {
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
  it('delivers every change to every subscriber in the order given, buffered from subscribe() on', async () => {
    const events = new EventTargetOrderEvents(new EventTarget());
    const controller = new AbortController();
    const first = events.subscribe(controller.signal);
    const second = events.subscribe(controller.signal);
    const delivered = [change('a', 1), change('b', 1), change('a', 2)];
    for (const c of delivered) events.deliver(c);
    expect(await take(first, 3)).toEqual(['a@1', 'b@1', 'a@2']);
    expect(await take(second, 3)).toEqual(['a@1', 'b@1', 'a@2']);
    controller.abort();
  });

  it('hands every subscriber the same change object (shared subscription results rely on it)', async () => {
    const events = new EventTargetOrderEvents(new EventTarget());
    const controller = new AbortController();
    const [a, b] = [events.subscribe(controller.signal), events.subscribe(controller.signal)];
    const delivered = change('x', 1);
    events.deliver(delivered);
    const [left, right] = await Promise.all([a[Symbol.asyncIterator]().next(), b[Symbol.asyncIterator]().next()]);
    expect(left.value).toBe(delivered);
    expect(right.value).toBe(delivered);
    controller.abort();
  });

  it('gives nothing delivered before subscribe() or after the abort, and ends the stream at the abort', async () => {
    const events = new EventTargetOrderEvents(new EventTarget());
    events.deliver(change('early', 1));
    const controller = new AbortController();
    const iterator = events.subscribe(controller.signal)[Symbol.asyncIterator]();
    events.deliver(change('in', 1));
    expect((await iterator.next()).value?.orderId).toBe('in');
    const pending = iterator.next();
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    events.deliver(change('late', 1));
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('ends a subscriber that fell more than 1,000 changes behind with an error once it has read what it holds', async () => {
    const events = new EventTargetOrderEvents(new EventTarget());
    const controller = new AbortController();
    const iterator = events.subscribe(controller.signal)[Symbol.asyncIterator]();
    for (let version = 1; version <= 1_001; version += 1) events.deliver(change('slow', version));
    for (let version = 1; version <= 1_000; version += 1) expect((await iterator.next()).value?.version).toBe(version);
    await expect(iterator.next()).rejects.toThrow(/fell too far behind/);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });
});
