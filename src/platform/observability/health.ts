import { useReadinessCheck, type Plugin } from 'graphql-yoga';

/** One dependency readiness waits for; `check` rejects (or resolves false) when it is down. */
export interface ReadinessCheck {
  readonly name: string;
  check(signal: AbortSignal): Promise<boolean | void>;
}

/** Readiness of one instance, served as `GET /ready` (liveness, `GET /health`, is yoga's built-in check). */
export interface Health {
  readonly plugin: Plugin<Record<string, unknown>>;
  /** Adds a dependency to check (the database; Redis when configured). */
  addCheck(check: ReadinessCheck): void;
  /** From now on /ready answers 503 without checking anything (called first thing on SIGTERM). */
  markShuttingDown(): void;
  /** Runs the checks, as `/ready` does. */
  readiness(): Promise<{ ready: boolean; checks: Record<string, 'up' | 'down' | 'shutting down'> }>;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });

/**
 * `/ready` (yoga's `useReadinessCheck`) answers 200 only when every dependency answered within
 * `timeoutMs` and the instance is not shutting down (readiness: send me traffic), else 503, with
 * the state of each check as JSON. `/health` is yoga's own liveness check: 200 while the process
 * serves requests at all, also while shutting down. Both are answered before GraphQL handling.
 */
export function createHealth(options: { readonly timeoutMs: number }): Health {
  const checks: ReadinessCheck[] = [];
  let shuttingDown = false;

  const run = async (check: ReadinessCheck): Promise<boolean> => {
    const signal = AbortSignal.timeout(options.timeoutMs);
    const timedOut = new Promise<false>((resolve) => signal.addEventListener('abort', () => resolve(false), { once: true }));
    try {
      return (await Promise.race([check.check(signal).then((ok) => ok !== false), timedOut])) === true;
    } catch {
      return false;
    }
  };

  const readiness: Health['readiness'] = async () => {
    if (shuttingDown) return { ready: false, checks: Object.fromEntries(checks.map((c) => [c.name, 'shutting down' as const])) };
    const results = await Promise.all(checks.map(async (c) => [c.name, (await run(c)) ? 'up' : 'down'] as const));
    // Shutdown may have begun while the checks ran: it wins.
    return { ready: !shuttingDown && results.every(([, state]) => state === 'up'), checks: Object.fromEntries(results) };
  };

  const plugin = useReadinessCheck({
    endpoint: '/ready',
    check: async () => {
      const state = await readiness();
      return json(state.ready ? 200 : 503, { status: state.ready ? 'ready' : shuttingDown ? 'shutting down' : 'not ready', checks: state.checks });
    },
  }) as unknown as Plugin<Record<string, unknown>>;

  return {
    plugin,
    addCheck: (check) => void checks.push(check),
    markShuttingDown: () => {
      shuttingDown = true;
    },
    readiness,
  };
}
