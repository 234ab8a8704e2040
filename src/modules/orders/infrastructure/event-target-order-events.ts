import type { OrderStatusChange } from '../domain/order.ts';
import type { OrderStatus } from '../domain/status-machine.ts';
import type { OrderEvents } from '../application/ports.ts';

/** The pub/sub topic every order status change goes to. */
export const ORDER_STATUS_TOPIC = 'order-status-changed';

/** The JSON-safe wire shape (a Redis event target serialises `detail` as JSON); also the outbox payload. */
export interface WireChange {
  orderId: string;
  customerId: string;
  version: number;
  from: OrderStatus | null;
  to: OrderStatus;
  at: string;
  actor: string | null;
  reason: string | null;
  /** W3C trace context of the operation that made the change, so delivery spans can link to it (issue #5). */
  traceparent?: string;
}

/** The JSON-safe form of a change. */
export const toWireChange = (change: OrderStatusChange): WireChange => ({ ...change, at: change.at.toISOString() });

/**
 * Orders whose last delivered version an instance remembers to drop repeats: a repeat comes from a
 * relay retry, seconds after the original, long before 10,000 other orders have changed.
 */
const MAX_TRACKED_ORDERS = 10_000;

/** Events a slow subscriber may fall behind by before its stream is ended (it can resume with afterVersion). */
const MAX_BUFFERED = 1_000;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * {@link OrderEvents} over an EventTarget: an in-process `EventTarget` for one instance, or
 * `@graphql-yoga/redis-event-target` when several instances share Redis (chosen in app.ts; the
 * same seam yoga's `createPubSub` uses).
 *
 * The target has one listener per instance, however many subscribers: it builds the change once
 * and hands that same object to every subscriber (shared subscription results are cached per
 * event object, see graphql/shared-subscriptions.ts). A listener per subscriber made each
 * subscribe and unsubscribe cost O(subscribers) (EventTarget checks for duplicates), i.e. O(n²)
 * for 10,000 sockets, and each event a span per subscriber.
 */
export class EventTargetOrderEvents implements OrderEvents {
  readonly #target: EventTarget;
  readonly #subscribers = new Set<(change: OrderStatusChange) => void>();
  /** The last version delivered per order (most recent orders last; at most MAX_TRACKED_ORDERS). */
  readonly #lastVersion = new Map<string, number>();
  readonly #onEvent = (event: Event) => {
    const wire = (event as CustomEvent<WireChange>).detail;
    // The relay publishes at least once: a repeated or older version is dropped here, once for
    // every subscriber of this instance, instead of each subscription keeping a map (issue 6).
    const last = this.#lastVersion.get(wire.orderId);
    if (last !== undefined && wire.version <= last) return;
    this.#lastVersion.delete(wire.orderId);
    this.#lastVersion.set(wire.orderId, wire.version);
    if (this.#lastVersion.size > MAX_TRACKED_ORDERS) this.#lastVersion.delete(this.#lastVersion.keys().next().value!);
    const change: OrderStatusChange = { ...wire, at: new Date(wire.at) };
    for (const deliver of this.#subscribers) deliver(change);
  };

  constructor(target: EventTarget) {
    this.#target = target;
  }

  async publish(change: OrderStatusChange): Promise<void> {
    await this.publishWire(toWireChange(change));
  }

  /** Publishes an already serialised change (the outbox relay's path). */
  async publishWire(detail: WireChange): Promise<void> {
    this.#target.dispatchEvent(new CustomEvent(ORDER_STATUS_TOPIC, { detail }));
  }

  subscribe(signal: AbortSignal): AsyncIterable<OrderStatusChange> {
    // A hand-written iterator rather than an async generator: a change handed to a waiting
    // next() reaches the consumer in one promise hop instead of three or four, and with 10,000
    // subscribers every hop is 10,000 queued jobs before the first socket write (issue 6).
    // Kept over yoga's createPubSub / Repeater (issue 13, measured): createPubSub listens only from
    // the first next() (reopening the replay gap) and puts a transport listener, hence a delivery
    // span, per subscriber; a Repeater per subscriber fed by the one listener cost +1.0 KB heap per
    // idle subscribed socket (27.3 → 28.3 KB) and, at 10,000 sockets, p50 3.8–3.9× bare ws instead
    // of 2.3–2.9× in bench:subscriptions (in-process fan-out per event 22 → 120 ms).
    const buffer: OrderStatusChange[] = [];
    const waiting: ((result: IteratorResult<OrderStatusChange>) => void)[] = [];
    let overflowed = false;
    let ended = false;
    const deliver = (change: OrderStatusChange) => {
      const next = waiting.shift();
      if (next) next({ done: false, value: change });
      else if (buffer.length >= MAX_BUFFERED) overflowed = true;
      else buffer.push(change);
    };
    const end = () => {
      if (ended) return;
      ended = true;
      this.#unsubscribe(deliver);
      signal.removeEventListener('abort', end);
      for (const next of waiting.splice(0)) next(DONE);
    };
    // Listening starts now, not at the first next(): callers rely on it to close the replay gap.
    // The abort alone detaches the subscriber, also when iteration never starts.
    this.#subscribe(deliver);
    if (signal.aborted) end();
    else signal.addEventListener('abort', end, { once: true });
    const iterator: AsyncIterator<OrderStatusChange> = {
      next: () => {
        if (ended) return Promise.resolve(DONE);
        const change = buffer.shift();
        if (change) return Promise.resolve({ done: false, value: change });
        if (overflowed) {
          end();
          return Promise.reject(new Error('subscriber fell too far behind; resume with afterVersion'));
        }
        return new Promise((resolve) => waiting.push(resolve));
      },
      return: () => {
        end();
        return Promise.resolve(DONE);
      },
    };
    return { [Symbol.asyncIterator]: () => iterator };
  }

  #subscribe(deliver: (change: OrderStatusChange) => void): void {
    if (this.#subscribers.size === 0) this.#target.addEventListener(ORDER_STATUS_TOPIC, this.#onEvent);
    this.#subscribers.add(deliver);
  }

  #unsubscribe(deliver: (change: OrderStatusChange) => void): void {
    if (this.#subscribers.delete(deliver) && this.#subscribers.size === 0) this.#target.removeEventListener(ORDER_STATUS_TOPIC, this.#onEvent);
  }
}
