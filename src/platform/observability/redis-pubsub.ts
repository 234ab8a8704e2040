import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';

/** Pub/sub between instances over Redis, as an EventTarget: the order log's doorbell (ADR 0012). */
export interface RedisPubSub {
  /** `@graphql-yoga/redis-event-target` over the two connections below. */
  readonly eventTarget: EventTarget;
  /**
   * The publishing connection, also usable for ordinary commands (e.g. shared rate-limit state);
   * the other connection is in subscriber mode and can run nothing else.
   */
  readonly client: Redis;
  /** Readiness: both connections are up and Redis answers PING. */
  check(signal: AbortSignal): Promise<boolean>;
  /**
   * Calls `listener` at once and on every connection event that can change it (ioredis 'ready',
   * 'close', 'end' of either connection) with whether both connections are ready: the readiness
   * metric's source between checks.
   */
  watchConnections(listener: (up: boolean) => void): void;
  /**
   * Calls `callback` each time the subscriber connection is ready again after it was lost: what
   * was published meanwhile never arrived (pub/sub is at most once).
   */
  onSubscriberReconnect(callback: () => void): void;
  /** Closes both connections (QUIT, or a hard disconnect after `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * ioredis returns promises that the event target never awaits (publish, subscribe, unsubscribe):
 * a rejection there would be unhandled and, on Node 24, kill the process. This proxy catches and
 * reports them instead; everything else reaches the client unchanged.
 */
function guardFireAndForget(client: Redis, onError: (command: string, error: unknown) => void): Redis {
  const guarded = new Set(['publish', 'subscribe', 'unsubscribe']);
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (typeof property === 'string' && guarded.has(property)) {
        return (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (result instanceof Promise) result.catch((error: unknown) => onError(property, error));
          return result;
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

/**
 * The subscriber connection's ioredis options: commands wait for the connection however long it
 * takes, and no ready check (INFO): a SUBSCRIBE written between connect and ready (ioredis sends
 * CLIENT SETINFO first, after reading its package.json) puts the connection in subscriber mode, the
 * INFO is then refused, and ioredis reconnects into the same race for ever (a loaded full test run
 * left both subscribers "reconnecting" and deaf).
 */
const SUBSCRIBER_OPTIONS = { maxRetriesPerRequest: null, enableReadyCheck: false } as const;

/**
 * Connects the two ioredis connections pub/sub needs and builds the event target on them. The
 * connections reconnect by themselves (capped backoff) and the subscriber re-subscribes its
 * channels; a message published while a connection is down is lost, which for a doorbell ring
 * only delays events until the readers' next timed read (the events are in the order log, ADR 0012).
 * - publisher: commands queue while disconnected and fail after ioredis' default 20 retries, so a
 *   long outage cannot grow the queue without bound; failures are logged and counted by the caller.
 * - subscriber: its (un)subscribe commands wait for the connection however long it takes, since a
 *   lost SUBSCRIBE would leave a topic silent for good.
 */
export function createRedisPubSub(url: string, logger: Logger, onPublishError?: (error: unknown) => void): RedisPubSub {
  const log = logger.child({ component: 'redis' });
  const connect = (role: 'publisher' | 'subscriber') => {
    const client = new Redis(url, {
      connectionName: `ordergraph-${role}`,
      retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
      ...(role === 'subscriber' ? SUBSCRIBER_OPTIONS : {}),
    });
    // One warning per outage rather than one per reconnection attempt.
    let down = false;
    client.on('error', (error: Error) => {
      if (down) return;
      down = true;
      log.warn({ role, err: error.message }, 'Redis connection lost; reconnecting');
    });
    client.on('ready', () => {
      if (down) log.info({ role }, 'Redis connection restored');
      down = false;
    });
    return client;
  };
  const publisher = connect('publisher');
  const subscriber = connect('subscriber');
  const onError = (command: string, error: unknown) => {
    log.warn({ command, err: error instanceof Error ? error.message : String(error) }, 'Redis command failed');
    if (command === 'publish') onPublishError?.(error);
  };
  const eventTarget = createRedisEventTarget({
    publishClient: guardFireAndForget(publisher, onError),
    subscribeClient: guardFireAndForget(subscriber, onError),
  }) as unknown as EventTarget;

  return {
    eventTarget,
    client: publisher,
    async check(signal) {
      if (publisher.status !== 'ready' || subscriber.status !== 'ready') return false;
      const pong = await Promise.race([
        publisher.ping(),
        new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
      ]);
      return pong === 'PONG';
    },
    watchConnections(listener) {
      // ioredis sets `status` before it emits the event, so both are read as they are now.
      const report = () => listener(publisher.status === 'ready' && subscriber.status === 'ready');
      for (const client of [publisher, subscriber]) for (const event of ['ready', 'close', 'end']) client.on(event, report);
      report();
    },
    onSubscriberReconnect(callback) {
      let connectedOnce = subscriber.status === 'ready';
      subscriber.on('ready', () => {
        if (connectedOnce) callback();
        connectedOnce = true;
      });
    },
    async close(timeoutMs = 2_000) {
      await Promise.all(
        [publisher, subscriber].map(async (client) => {
          if (client.status === 'end') return;
          if (client.status !== 'ready') {
            client.disconnect();
            return;
          }
          const timer = setTimeout(() => client.disconnect(), timeoutMs);
          try {
            await client.quit();
          } catch {
            client.disconnect();
          } finally {
            clearTimeout(timer);
          }
        }),
      );
    },
  };
}
