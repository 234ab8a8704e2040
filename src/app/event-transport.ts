import type { Config } from '../config.ts';
import type { Logger } from '../platform/logger.ts';
import type { Health } from '../platform/observability/health.ts';
import { createRedisPubSub, type RedisPubSub } from '../platform/observability/redis-pubsub.ts';

/** How order events travel between the instances, and the Redis client shared state may use. */
export interface EventTransport {
  readonly target: EventTarget;
  readonly system: 'in-process' | 'redis';
  /** The command connection when REDIS_URL is set (rate-limit counters share it). */
  readonly redis: RedisPubSub['client'] | undefined;
}

/**
 * In-process pub/sub for one instance, or Redis between instances when REDIS_URL is set (with a
 * readiness check); `override` (tests, benchmarks) wins. `cleanups` gets what closes it.
 */
export function createEventTransport(
  config: Config,
  deps: { readonly override?: EventTarget | undefined; readonly logger: Logger; readonly health: Health; readonly cleanups: (() => Promise<void>)[] },
): EventTransport {
  if (deps.override || !config.redisUrl) return { target: deps.override ?? new EventTarget(), system: 'in-process', redis: undefined };
  const redis = createRedisPubSub(config.redisUrl, deps.logger);
  // Registered before the workers' cleanup, so it runs after they stopped (the relay publishes).
  deps.cleanups.unshift(() => redis.close());
  deps.health.addCheck({ name: 'redis', check: (signal) => redis.check(signal) });
  return { target: redis.eventTarget, system: 'redis', redis: redis.client };
}
