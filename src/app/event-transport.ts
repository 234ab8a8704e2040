import type { Config } from '../config.ts';
import { PgNotifyDoorbell } from '../platform/db/pg-notify-doorbell.ts';
import { doorbellChangeFeed, eventTargetChangeFeed, type ChangeFeed } from '../platform/change-feed.ts';
import { eventTargetDoorbell, type DoorbellTransport } from '../platform/doorbell.ts';
import type { Logger } from '../platform/logger.ts';
import type { Health } from '../platform/observability/health.ts';
import { createRedisPubSub, type RedisPubSub } from '../platform/observability/redis-pubsub.ts';

/** How the order log's doorbell rings between the instances, and the Redis client shared state may use. */
export interface EventTransport {
  /** Rings between the instances' log readers (ADR 0012): events themselves travel through the log. */
  readonly doorbell: DoorbellTransport;
  /** Committed changes between the instances, for the response cache's invalidation (ADR 0015). */
  readonly changes: ChangeFeed;
  /** The command connection when REDIS_URL is set (rate-limit counters share it). */
  readonly redis: RedisPubSub['client'] | undefined;
}

/**
 * The doorbell between instances: Redis pub/sub when REDIS_URL is set (with a non-critical
 * readiness check); else PostgreSQL LISTEN/NOTIFY on DATABASE_URL (it stays silent on a PGlite
 * behind that URL, which is one session); else in-process, for the one instance on the embedded
 * PGlite. `override` (tests, benchmarks: an EventTarget that in-process apps share) wins.
 * `cleanups` gets what closes it.
 */
export function createEventTransport(
  config: Config,
  deps: { readonly override?: EventTarget | undefined; readonly logger: Logger; readonly health: Health; readonly cleanups: (() => Promise<void>)[] },
): EventTransport {
  if (deps.override) return { doorbell: eventTargetDoorbell(deps.override, 'in-process'), changes: eventTargetChangeFeed(deps.override), redis: undefined };
  if (!config.redisUrl) {
    if (!config.database.url) {
      const target = new EventTarget();
      return { doorbell: eventTargetDoorbell(target, 'in-process'), changes: eventTargetChangeFeed(target), redis: undefined };
    }
    const doorbell = new PgNotifyDoorbell(config.database.url, deps.logger);
    // Registered before the workers' cleanup, so it closes after they stopped.
    deps.cleanups.unshift(() => doorbell.close());
    // NOTIFY carries no changes here: another instance's write clears this one's response cache.
    return { doorbell, changes: doorbellChangeFeed(doorbell), redis: undefined };
  }
  const redis = createRedisPubSub(config.redisUrl, deps.logger);
  // Registered before the workers' cleanup, so it runs after they stopped (their commits ring).
  deps.cleanups.unshift(() => redis.close());
  // Not critical: Redis only rings the log's doorbell, the readers' timed reads deliver without it (ADR 0012).
  deps.health.addCheck({ name: 'redis', critical: false, check: (signal) => redis.check(signal), watch: (report) => redis.watchConnections(report) });
  // While Redis is down a ring is dropped, not queued in ioredis' offline queue for up to its retries.
  const connected = () => redis.client.status === 'ready';
  // Pub/sub is at most once: when the subscriber connection comes back, the cache forgets everything.
  const changes = eventTargetChangeFeed(redis.eventTarget, { connected, onReconnect: (callback) => redis.onSubscriberReconnect(callback) });
  return { doorbell: eventTargetDoorbell(redis.eventTarget, 'redis', connected), changes, redis: redis.client };
}
