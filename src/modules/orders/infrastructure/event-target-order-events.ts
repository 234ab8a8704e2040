import type { OrderStatusChange } from '../domain/order.ts';
import type { OrderStatus } from '../domain/status-machine.ts';
import type { LoggedChange, OrderEvents } from '../application/ports.ts';

/** The topic of order status changes: the outbox rows' `topic`, and the event type of the in-process fan-out. */
export const ORDER_STATUS_TOPIC = 'order-status-changed';

/** The JSON-safe shape of a change: the outbox row's payload. */
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
  /**
   * Products whose stock the change's transaction reserved (the order placed) or released (a
   * decline, a cancel): every instance's response cache forgets them (ADR 0015). Absent: none,
   * and in rows written before it existed.
   */
  stockMoved?: string[];
}

/** The JSON-safe form of a change. */
export const toWireChange = (change: OrderStatusChange): WireChange => ({ ...change, at: change.at.toISOString() });

/** Events a slow subscriber may fall behind by before its stream is ended (it resumes from its last cursor). */
const MAX_BUFFERED = 1_000;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** What travels on the in-process target: the change, and the trace context delivery spans link to. */
export interface DeliveredChange {
  readonly change: LoggedChange;
  /** W3C trace context of the operation that made the change (top level: traceDeliveries reads it there). */
  readonly traceparent: string | undefined;
}

/**
 * {@link OrderEvents} of one instance: its log reader hands every change to {@link deliver} once, in
 * log order, and this fans it out to the instance's subscribers through an in-process EventTarget
 * (which the module wraps with traceDeliveries: a span per arrival, linked to the operation that
 * made the change).
 *
 * The target has one listener per instance, however many subscribers: it hands the same change
 * object to every subscriber (shared subscription results are cached per event object, see
 * graphql/shared-subscriptions.ts). A listener per subscriber made each subscribe and unsubscribe
 * cost O(subscribers) (EventTarget checks for duplicates), i.e. O(n²) for 10,000 sockets, and each
 * event a span per subscriber.
 */
export class EventTargetOrderEvents implements OrderEvents {
  readonly #target: EventTarget;
  readonly #subscribers = new Set<(change: LoggedChange) => void>();
  readonly #onEvent = (event: Event) => {
    const { change } = (event as CustomEvent<DeliveredChange>).detail;
    for (const deliver of this.#subscribers) deliver(change);
  };

  constructor(target: EventTarget) {
    this.#target = target;
  }

  /**
   * Hands a change to every current subscriber: the log reader's path (and a benchmark's). The
   * caller delivers each change once and in log order; nothing here reorders or drops repeats.
   */
  deliver(change: LoggedChange, traceparent?: string): void {
    if (this.#subscribers.size === 0) return;
    const detail: DeliveredChange = { change, traceparent };
    this.#target.dispatchEvent(new CustomEvent(ORDER_STATUS_TOPIC, { detail }));
  }

  subscribe(signal: AbortSignal): AsyncIterable<LoggedChange> {
    // A hand-written iterator rather than an async generator: a change handed to a waiting
    // next() reaches the consumer in one promise hop instead of three or four, and with 10,000
    // subscribers every hop is 10,000 queued jobs before the first socket write (issue 6).
    // Kept over yoga's createPubSub / Repeater (issue 13, measured): createPubSub listens only from
    // the first next() (reopening the replay gap) and puts a transport listener, hence a delivery
    // span, per subscriber; a Repeater per subscriber fed by the one listener cost +1.0 KB heap per
    // idle subscribed socket (27.3 → 28.3 KB) and, at 10,000 sockets, p50 3.8–3.9× bare ws instead
    // of 2.3–2.9× in bench:subscriptions (in-process fan-out per event 22 → 120 ms).
    const buffer: LoggedChange[] = [];
    const waiting: ((result: IteratorResult<LoggedChange>) => void)[] = [];
    let overflowed = false;
    let ended = false;
    const deliver = (change: LoggedChange) => {
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
    const iterator: AsyncIterator<LoggedChange> = {
      next: () => {
        if (ended) return Promise.resolve(DONE);
        const change = buffer.shift();
        if (change) return Promise.resolve({ done: false, value: change });
        if (overflowed) {
          end();
          return Promise.reject(new Error('subscriber fell too far behind; resume from the cursor of its last event'));
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

  #subscribe(deliver: (change: LoggedChange) => void): void {
    if (this.#subscribers.size === 0) this.#target.addEventListener(ORDER_STATUS_TOPIC, this.#onEvent);
    this.#subscribers.add(deliver);
  }

  #unsubscribe(deliver: (change: LoggedChange) => void): void {
    if (this.#subscribers.delete(deliver) && this.#subscribers.size === 0) this.#target.removeEventListener(ORDER_STATUS_TOPIC, this.#onEvent);
  }
}
