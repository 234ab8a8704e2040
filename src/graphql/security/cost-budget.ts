import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Viewer } from '../../platform/op-context.ts';

/** A customer's pricing tier as the budgets see it (the customers module's CustomerTier values). */
export type BudgetTier = 'BASIC' | 'PREMIUM' | 'ENTERPRISE';

/**
 * Reads a customer's current tier (the composition root binds it to the customers module's
 * getPricingTier); undefined for an unknown customer, which is budgeted as BASIC.
 */
export type TierOf = (customerId: string) => Promise<BudgetTier | undefined>;

/** Cost points per window by viewer class (COST_BUDGET_*), and the window in seconds (COST_BUDGET_WINDOW_SECONDS). */
export interface CostBudgetSettings {
  readonly windowSeconds: number;
  readonly anonymous: number;
  readonly basic: number;
  readonly premium: number;
  readonly enterprise: number;
  readonly admin: number;
}

/** What every response tells its client in `extensions.cost` (points are bound cost points, security/measure.ts). */
export interface CostReport {
  /** This operation's cost: charged when it ran, not charged when it was refused. */
  readonly requested: number;
  /** Points left in the window after this operation. */
  readonly remaining: number;
  /** The window's budget, fixed when the window opened. */
  readonly budget: number;
  /** Whole seconds until the window ends and a new one (with a fresh budget) may open. */
  readonly resetAfterSeconds: number;
}

/** The outcome of {@link CostBudgets.charge}: the report, and `refused` when the operation must not run. */
export interface BudgetCharge {
  readonly report: CostReport;
  readonly refused?: { readonly retryAfterSeconds: number };
}

/** Per-identity cost budgets whose size depends on the viewer (docs/adr/0014). */
export interface CostBudgets {
  /**
   * Charges `points` to `identity`'s current window, unless they do not fit in what is left of
   * its budget: then nothing is charged and the answer says `refused`. `points` = 0 only reads.
   * @returns undefined for system viewers, which have no budget.
   */
  charge(identity: string, viewer: Viewer, points: number): Promise<BudgetCharge | undefined>;
  /** Gives back points charged to an operation that was refused afterwards (by another limit). */
  refund(identity: string, points: number): Promise<void>;
}

/** One identity's window budget as this instance knows it: until `windowEnd` (epoch ms). */
interface KnownBudget {
  readonly windowEnd: number;
  readonly budget: Promise<number>;
}

/** Known budgets kept before expired ones are swept (each ~200 bytes; one per active identity). */
const SWEEP_ABOVE = 10_000;

/**
 * Cost budgets on rate-limiter-flexible, one fixed window per identity (`COST_BUDGET_WINDOW_SECONDS`).
 * The counter's limit is the largest budget: each charge adds the points (`penalty`, which never
 * rejects) and compares the window's total with the identity's own budget, giving the points back
 * (`reward`) when they do not fit, so a refusal costs nothing.
 *
 * The window's budget is fixed when the window opens: this instance reads the viewer's tier (one
 * database read through `tierOf`) the first time it sees the window, and keeps the budget until the
 * window ends. With `redis` it is also stored beside the counter (`SET ordergraph:cb:budget:<identity>
 * <points> NX PX <ms left>`, then `GET`, in one round trip), so every instance uses the budget of
 * whichever instance opened the window, and a tier change applies from the next window everywhere.
 * The counters live in Redis (`ordergraph:cb:spent:<identity>`) with an in-memory limiter standing
 * in while Redis is unreachable, as for the other throttles (rate-limit.ts); budgets then come from
 * this instance's own reading.
 */
export function createCostBudgets(settings: CostBudgetSettings, deps: { readonly redis?: Redis | undefined; readonly tierOf: TierOf }): CostBudgets {
  const ceiling = Math.max(settings.anonymous, settings.basic, settings.premium, settings.enterprise, settings.admin);
  const options = { keyPrefix: 'ordergraph:cb:spent', points: ceiling, duration: settings.windowSeconds };
  const memory = new RateLimiterMemory(options);
  const { redis } = deps;
  const counter: RateLimiterAbstract = redis ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory }) : memory;
  const known = new Map<string, KnownBudget>();
  const windowMs = settings.windowSeconds * 1_000;

  /** The budget this viewer's class gets when a window opens (a tier read for customers). */
  const budgetOfClass = async (viewer: Viewer): Promise<number> => {
    if (viewer.kind !== 'customer') return settings.anonymous;
    if (viewer.role === 'ADMIN') return settings.admin;
    const tier = await deps.tierOf(viewer.customerId);
    return tier === 'ENTERPRISE' ? settings.enterprise : tier === 'PREMIUM' ? settings.premium : settings.basic;
  };

  /** The budget stored for the window in Redis (set by whichever instance got there first), else `candidate`. */
  const sharedBudget = async (identity: string, candidate: number, msLeft: number): Promise<number> => {
    if (!redis || redis.status !== 'ready' || msLeft <= 0) return candidate;
    const key = `ordergraph:cb:budget:${identity}`;
    try {
      const replies = await redis.multi().set(key, String(candidate), 'PX', msLeft, 'NX').get(key).exec();
      const stored = Number(replies?.[1]?.[1]);
      return Number.isSafeInteger(stored) && stored > 0 ? stored : candidate;
    } catch {
      return candidate;
    }
  };

  const windowBudget = (identity: string, viewer: Viewer, now: number, msLeft: number): Promise<number> => {
    const windowEnd = now + msLeft;
    const cached = known.get(identity);
    // The same window ends at the same instant give or take clock skew and latency; the next one at
    // least a whole window later.
    if (cached && cached.windowEnd > now && Math.abs(cached.windowEnd - windowEnd) < windowMs / 2) return cached.budget;
    if (known.size >= SWEEP_ABOVE) sweep(known, now);
    const entry: KnownBudget = {
      windowEnd,
      budget: budgetOfClass(viewer)
        .then((candidate) => sharedBudget(identity, candidate, msLeft))
        .catch(() => {
          // A failed tier read is not remembered: the next operation reads again; this one gets BASIC's.
          if (known.get(identity) === entry) known.delete(identity);
          return settings.basic;
        }),
    };
    known.set(identity, entry);
    return entry.budget;
  };

  return {
    async charge(identity, viewer, points) {
      if (viewer.kind === 'system') return undefined;
      const spent = await counter.penalty(identity, points);
      const budget = await windowBudget(identity, viewer, Date.now(), spent.msBeforeNext);
      const resetAfterSeconds = Math.max(0, Math.ceil(spent.msBeforeNext / 1_000));
      if (points > 0 && spent.consumedPoints > budget) {
        await counter.reward(identity, points);
        const left = Math.max(0, budget - (spent.consumedPoints - points));
        return { report: { requested: points, remaining: left, budget, resetAfterSeconds }, refused: { retryAfterSeconds: Math.max(1, resetAfterSeconds) } };
      }
      return { report: { requested: points, remaining: Math.max(0, budget - spent.consumedPoints), budget, resetAfterSeconds } };
    },
    async refund(identity, points) {
      if (points > 0) await counter.reward(identity, points);
    },
  };
}

/**
 * Drops the budgets of windows that have ended, then, while still full (more live identities than
 * SWEEP_ABOVE, e.g. a flood from many addresses), the oldest tenth: those re-read their budget
 * (from Redis when shared, else their class's current one) on their next operation.
 */
function sweep(known: Map<string, KnownBudget>, now: number): void {
  for (const [identity, entry] of known) if (entry.windowEnd <= now) known.delete(identity);
  if (known.size < SWEEP_ABOVE) return;
  let evict = Math.ceil(SWEEP_ABOVE / 10);
  for (const identity of known.keys()) {
    if (evict-- <= 0) break;
    known.delete(identity);
  }
}
