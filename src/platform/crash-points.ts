/**
 * Named places where a test may make the process die abruptly (SIGKILL: no cleanup, no flush),
 * to prove that recovery works from exactly there. Inert unless configured, and refused in
 * production by the config (CRASH_POINT).
 */
export type CrashPointName =
  /** The payment row is written, the provider not called yet. */
  | 'payment.before-charge'
  /** The provider answered the charge; nothing recorded yet. */
  | 'payment.after-charge'
  /** The order's PAID/PAYMENT_FAILED change is committed; its outbox event not published yet. */
  | 'order.after-commit';

export interface CrashPoints {
  /** Kills the process when `name` is the configured point and its skip count is used up. */
  reach(name: CrashPointName): void;
}

/** Never crashes. */
export const noCrashPoints: CrashPoints = { reach: () => undefined };

/**
 * @param point the crash point to arm, or undefined for none
 * @param skip how many passes through the point to let by before crashing (0: the first)
 */
export function createCrashPoints(point: CrashPointName | undefined, skip = 0): CrashPoints {
  if (!point) return noCrashPoints;
  let remaining = skip;
  return {
    reach(name) {
      if (name !== point) return;
      if (remaining > 0) {
        remaining -= 1;
        return;
      }
      process.stderr.write(`crash point ${name} reached: SIGKILL\n`);
      process.kill(process.pid, 'SIGKILL');
    },
  };
}
