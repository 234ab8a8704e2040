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

/** Events a slow subscriber may fall behind by before its stream is ended (it can resume with afterVersion). */
const MAX_BUFFERED = 1_000;

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
  readonly #onEvent = (event: Event) => {
    const wire = (event as CustomEvent<WireChange>).detail;
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
    const buffer: OrderStatusChange[] = [];
    let wake: (() => void) | undefined;
    let overflowed = false;
    // Set by the abort event rather than read from `signal.aborted` per event: on a signal made by
    // AbortSignal.any that getter walks its sources each time (a tenth of the CPU of a fan-out).
    let aborted = signal.aborted;
    const deliver = (change: OrderStatusChange) => {
      if (buffer.length >= MAX_BUFFERED) overflowed = true;
      else buffer.push(change);
      wake?.();
    };
    // Also when iteration never starts: the abort alone must detach the subscriber.
    const onAbort = () => {
      aborted = true;
      this.#unsubscribe(deliver);
      wake?.();
    };
    // Listening starts now, not at the first next(): callers rely on it to close the replay gap.
    this.#subscribe(deliver);
    signal.addEventListener('abort', onAbort, { once: true });
    const unsubscribe = () => this.#unsubscribe(deliver);
    return {
      async *[Symbol.asyncIterator]() {
        try {
          while (!aborted) {
            const next = buffer.shift();
            if (next) {
              yield next;
              continue;
            }
            if (overflowed) throw new Error('subscriber fell too far behind; resume with afterVersion');
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
          }
        } finally {
          unsubscribe();
          signal.removeEventListener('abort', onAbort);
        }
      },
    };
  }

  #subscribe(deliver: (change: OrderStatusChange) => void): void {
    if (this.#subscribers.size === 0) this.#target.addEventListener(ORDER_STATUS_TOPIC, this.#onEvent);
    this.#subscribers.add(deliver);
  }

  #unsubscribe(deliver: (change: OrderStatusChange) => void): void {
    if (this.#subscribers.delete(deliver) && this.#subscribers.size === 0) this.#target.removeEventListener(ORDER_STATUS_TOPIC, this.#onEvent);
  }
}
