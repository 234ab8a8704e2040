/** How rings travel between instances: Redis pub/sub, PostgreSQL NOTIFY, or within one process. */
export type DoorbellSystem = 'redis' | 'postgres' | 'in-process';

/**
 * A doorbell between instances: a signal that carries nothing but "something new, go look", for
 * listeners that also look on a timer, so a lost ring only delays them (ADR 0012: the order log's
 * readers). Fire-and-forget: ringing never waits, never throws, and may be lost.
 */
export interface DoorbellTransport {
  readonly system: DoorbellSystem;
  /** Tells every other instance listening on `channel` (not this one). */
  ring(channel: string): void;
  /** Calls `onRing` when another instance rings `channel`. @returns what stops listening. */
  listen(channel: string, onRing: () => void): () => void;
}

/** What a ring carries on an EventTarget: who rang, so an instance ignores its own. */
interface Ring {
  readonly from: string;
}

/**
 * A doorbell over an EventTarget: `@graphql-yoga/redis-event-target` between instances sharing
 * Redis (the event type is the Redis channel, the detail travels as JSON), or a plain in-process
 * EventTarget (one instance; tests and benchmarks share one between in-process apps).
 * `connected`: whether a ring can go out now; one that cannot is dropped rather than queued (a
 * late ring is worth nothing: the readers' timed read comes first).
 */
export function eventTargetDoorbell(target: EventTarget, system: DoorbellSystem, connected: () => boolean = () => true): DoorbellTransport {
  const self = crypto.randomUUID();
  return {
    system,
    ring(channel) {
      if (!connected()) return;
      const detail: Ring = { from: self };
      target.dispatchEvent(new CustomEvent(channel, { detail }));
    },
    listen(channel, onRing) {
      const listener = (event: Event) => {
        if ((event as CustomEvent<Ring | undefined>).detail?.from !== self) onRing();
      };
      target.addEventListener(channel, listener);
      return () => target.removeEventListener(channel, listener);
    },
  };
}
