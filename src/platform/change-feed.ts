import type { DoorbellTransport } from './doorbell.ts';

/**
 * What a committed write changed, in domain terms (internal UUIDs): what caches of reads (the
 * response cache, ADR 0015) must forget. `stockMoved`: products whose stock the order's
 * transaction reserved or released (placing it; a decline or a cancel). `payment`: the payment of
 * order `orderId` changed without an order log entry (a refund, reconciliation, a provider event,
 * a charge attempt noted); the order itself did not.
 */
export type CommittedChange =
  | { readonly kind: 'order'; readonly orderId: string; readonly customerId: string; readonly stockMoved: readonly string[] }
  | { readonly kind: 'product'; readonly productId: string }
  | { readonly kind: 'customer'; readonly customerId: string }
  | { readonly kind: 'payment'; readonly orderId: string };

/** Hears committed changes; `onGap` when some may have been missed (everything derived must go). */
export interface ChangeListener {
  onChanges(changes: readonly CommittedChange[]): void;
  onGap(): void;
}

/**
 * Committed changes, fanned out to this instance's listeners and, for writes only this instance
 * sees, to every other instance's. Publishing never throws and never waits.
 */
export interface ChangeFeed {
  /**
   * Tells this instance's listeners only, synchronously: for changes every instance reads on its
   * own (the order log, whose reader runs on each).
   */
  local(changes: readonly CommittedChange[]): void;
  /**
   * Tells this instance's listeners synchronously (before the write's caller gets its answer),
   * then the other instances', at most once: a message lost while an instance's subscriber
   * connection was down is made up by an `onGap` there when it comes back.
   */
  publish(changes: readonly CommittedChange[]): void;
  /** @returns what stops listening. */
  listen(listener: ChangeListener): () => void;
}

/** The channel (Redis channel, EventTarget type, NOTIFY channel) committed changes travel on. */
export const CHANGES_CHANNEL = 'ordergraph:committed-changes';

/** What a message carries: who sent it (an instance ignores its own), and the changes. */
interface ChangesMessage {
  readonly from: string;
  readonly changes: readonly CommittedChange[];
}

/** A change feed that tells nobody else: one instance, or a module test. */
export const inertChangeFeed: ChangeFeed = { local: () => undefined, publish: () => undefined, listen: () => () => undefined };

/** The local half every transport shares: the listeners, told synchronously. */
function localListeners() {
  const listeners = new Set<ChangeListener>();
  return {
    listeners,
    tell(changes: readonly CommittedChange[]) {
      if (changes.length > 0) for (const listener of listeners) listener.onChanges(changes);
    },
    gap() {
      for (const listener of listeners) listener.onGap();
    },
  };
}

/**
 * A change feed over an EventTarget: `@graphql-yoga/redis-event-target` between instances sharing
 * Redis (the detail travels as JSON), or a plain in-process EventTarget (tests and benchmarks
 * share one between in-process apps). `connected`: whether a message can go out now (one that
 * cannot is dropped, not queued: the receivers' gap handling covers it). `onReconnect`: registers
 * a callback for each time the receiving connection came back after being down, when messages
 * may have been lost; every listener then gets `onGap`.
 */
export function eventTargetChangeFeed(
  target: EventTarget,
  options: { readonly connected?: () => boolean; readonly onReconnect?: (callback: () => void) => void } = {},
): ChangeFeed {
  const self = crypto.randomUUID();
  const local = localListeners();
  let attached = false;
  const onMessage = (event: Event) => {
    const detail = (event as CustomEvent<ChangesMessage | undefined>).detail;
    if (detail && detail.from !== self && Array.isArray(detail.changes)) local.tell(detail.changes);
  };
  options.onReconnect?.(() => local.gap());
  return {
    local: (changes) => local.tell(changes),
    publish(changes) {
      local.tell(changes);
      if (changes.length === 0 || !(options.connected?.() ?? true)) return;
      const detail: ChangesMessage = { from: self, changes };
      target.dispatchEvent(new CustomEvent(CHANGES_CHANNEL, { detail }));
    },
    listen(listener) {
      local.listeners.add(listener);
      if (!attached) {
        attached = true;
        target.addEventListener(CHANGES_CHANNEL, onMessage);
      }
      return () => {
        local.listeners.delete(listener);
      };
    },
  };
}

/**
 * A change feed over a doorbell that carries no payload (PostgreSQL NOTIFY between instances
 * without Redis): a ring from another instance means "something changed", so its listeners get
 * `onGap` (forget everything). Coarse, but never stale; the NOTIFY doorbell rings its listeners
 * once after reconnecting, which covers rings lost meanwhile.
 */
export function doorbellChangeFeed(doorbell: DoorbellTransport): ChangeFeed {
  const local = localListeners();
  let attached = false;
  return {
    local: (changes) => local.tell(changes),
    publish(changes) {
      local.tell(changes);
      if (changes.length > 0) doorbell.ring(CHANGES_CHANNEL);
    },
    listen(listener) {
      local.listeners.add(listener);
      if (!attached) {
        attached = true;
        doorbell.listen(CHANGES_CHANNEL, () => local.gap());
      }
      return () => {
        local.listeners.delete(listener);
      };
    },
  };
}
