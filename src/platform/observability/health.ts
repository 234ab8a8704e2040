import { useReadinessCheck, type Plugin } from 'graphql-yoga';

/** What the latest check (or connection event) said of a dependency. */
export type DependencyState = 'up' | 'down';

/**
 * The `status` of `/ready`: 'ready' (every dependency up) and 'degraded' (a non-critical one down)
 * answer 200; 'not ready' (a critical one down) and 'shutting down' answer 503.
 */
export type ReadinessStatus = 'ready' | 'degraded' | 'not ready' | 'shutting down';

/** One dependency readiness looks at; `check` rejects (or resolves false) when it is down. */
export interface ReadinessCheck {
  readonly name: string;
  /**
   * true: the instance cannot serve without it (the database), so it is not ready while this is
   * down. false: it serves without it, less well (Redis, the log's doorbell: events then arrive
   * through the readers' timed reads, ADR 0012), so it is only 'degraded'.
   */
  readonly critical: boolean;
  check(signal: AbortSignal): Promise<boolean | void>;
  /**
   * Optional: calls `report` whenever the dependency's state is known to change between checks
   * (a client's connection events), so the metrics are current without a probe.
   */
  watch?(report: (up: boolean) => void): void;
}

/** The answer of `/ready`, also its JSON body. */
export interface Readiness {
  readonly status: ReadinessStatus;
  /** The state of each dependency: checked now, or, while shutting down, as last known. */
  readonly checks: Readonly<Record<string, DependencyState>>;
}

/** Last known state of the dependencies, read by the metrics at scrape time. */
export interface DependencySnapshot {
  /** By check name; a dependency not yet checked nor reported is absent. */
  readonly dependencies: Readonly<Record<string, DependencyState>>;
  /** Every critical dependency known up and a non-critical one down: what `/ready` would call 'degraded'. */
  readonly degraded: boolean;
}

/** Readiness of one instance, served as `GET /ready` (liveness, `GET /health`, is yoga's built-in check). */
export interface Health {
  readonly plugin: Plugin<Record<string, unknown>>;
  /** Adds a dependency to check (the database; Redis when configured); starts its `watch`. */
  addCheck(check: ReadinessCheck): void;
  /** From now on /ready answers 503 without checking anything (called first thing on SIGTERM). */
  markShuttingDown(): void;
  /** Runs the checks, as `/ready` does. */
  readiness(): Promise<Readiness>;
  /** The states from the latest checks and connection events, without probing. */
  snapshot(): DependencySnapshot;
}

/** 200 for 'ready' and 'degraded': a degraded instance still takes traffic. */
const httpStatusOf = (status: ReadinessStatus): 200 | 503 => (status === 'ready' || status === 'degraded' ? 200 : 503);

/** The status the dependencies' states give (shutting down wins over all of them). */
export function readinessStatus(states: readonly { readonly critical: boolean; readonly state: DependencyState }[], shuttingDown: boolean): ReadinessStatus {
  if (shuttingDown) return 'shutting down';
  if (states.some((s) => s.critical && s.state === 'down')) return 'not ready';
  return states.some((s) => s.state === 'down') ? 'degraded' : 'ready';
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });

interface Tracked {
  readonly check: ReadinessCheck;
  state: DependencyState | undefined;
  /** Bumped by every `watch` report, so a check that began before one cannot overwrite it. */
  reports: number;
}

/**
 * `/ready` (yoga's `useReadinessCheck`) runs every check, each bounded by `timeoutMs`, and answers
 * {@link Readiness} as JSON: 200 'ready' or 'degraded', 503 'not ready' or 'shutting down'
 * (readiness: send me traffic). `/health` is yoga's own liveness check: 200 while the process serves
 * requests at all, also while shutting down. Both are answered before GraphQL handling.
 */
export function createHealth(options: { readonly timeoutMs: number }): Health {
  const tracked: Tracked[] = [];
  let shuttingDown = false;

  const run = async (entry: Tracked): Promise<DependencyState> => {
    const reportsBefore = entry.reports;
    const signal = AbortSignal.timeout(options.timeoutMs);
    const timedOut = new Promise<false>((resolve) => signal.addEventListener('abort', () => resolve(false), { once: true }));
    let up: boolean;
    try {
      up = (await Promise.race([entry.check.check(signal).then((ok) => ok !== false), timedOut])) === true;
    } catch {
      up = false;
    }
    const state = up ? 'up' : 'down';
    if (entry.reports === reportsBefore) entry.state = state;
    return state;
  };

  const lastKnown = () => Object.fromEntries(tracked.flatMap((t) => (t.state ? [[t.check.name, t.state] as const] : [])));

  const readiness: Health['readiness'] = async () => {
    // The database may be closing: report what was last known instead of probing it.
    if (shuttingDown) return { status: 'shutting down', checks: lastKnown() };
    const states = await Promise.all(tracked.map(async (t) => ({ name: t.check.name, critical: t.check.critical, state: await run(t) })));
    // Shutdown may have begun while the checks ran: it wins.
    return { status: readinessStatus(states, shuttingDown), checks: Object.fromEntries(states.map((s) => [s.name, s.state])) };
  };

  const plugin = useReadinessCheck({
    endpoint: '/ready',
    check: async () => {
      const state = await readiness();
      return json(httpStatusOf(state.status), state);
    },
  }) as unknown as Plugin<Record<string, unknown>>;

  return {
    plugin,
    addCheck: (check) => {
      const entry: Tracked = { check, state: undefined, reports: 0 };
      tracked.push(entry);
      check.watch?.((up) => {
        entry.reports++;
        entry.state = up ? 'up' : 'down';
      });
    },
    markShuttingDown: () => {
      shuttingDown = true;
    },
    readiness,
    snapshot: () => {
      const known = tracked.flatMap((t) => (t.state ? [{ critical: t.check.critical, state: t.state }] : []));
      return { dependencies: lastKnown(), degraded: readinessStatus(known, false) === 'degraded' };
    },
  };
}
