import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** A rate: at most `points` per `windowSeconds` (fixed window), e.g. 10 sign-in attempts per 60 s. */
export interface Rate {
  readonly points: number;
  readonly windowSeconds: number;
}

/** The answer of a throttle that refused: when to try again. */
export interface Refusal {
  /** Whole seconds until enough points are free again (at least 1). */
  readonly retryAfterSeconds: number;
}

/**
 * Counts what one identity spends against a {@link Rate}.
 * @returns undefined when `points` fit in the identity's window, else how long to wait.
 */
export interface Throttle {
  take(key: string, points?: number): Promise<Refusal | undefined>;
}

/**
 * A {@link Throttle} on rate-limiter-flexible. With `redis`, the counters live in Redis (shared by
 * every instance, keys `ordergraph:rl:<name>:<identity>`), and an in-memory limiter with the same
 * rate stands in while Redis is unreachable, so an outage neither opens the gates nor fails
 * requests. Without it, counters live in this process.
 */
export function createThrottle(name: string, rate: Rate, redis?: Redis): Throttle {
  const options = { keyPrefix: `ordergraph:rl:${name}`, points: rate.points, duration: rate.windowSeconds };
  const memory = new RateLimiterMemory(options);
  const limiter: RateLimiterAbstract = redis
    ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory })
    : memory;
  return {
    async take(key, points = 1) {
      try {
        await limiter.consume(key, points);
        return undefined;
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return { retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
        throw rejection;
      }
    },
  };
}

/** Parses `points/seconds` (e.g. `10/60`), as rates are written in the environment. */
export function parseRate(text: string): Rate | undefined {
  const match = /^(\d{1,9})\/(\d{1,6})$/.exec(text.trim());
  if (!match) return undefined;
  const rate = { points: Number(match[1]), windowSeconds: Number(match[2]) };
  return rate.points >= 1 && rate.windowSeconds >= 1 ? rate : undefined;
}
