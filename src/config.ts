import type { CostBudgetSettings } from './graphql/security/cost-budget.ts';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** A rate written `points/seconds`, e.g. `10/60` for 10 per minute. */
const rate = z
  .string()
  .regex(/^\d{1,9}\/\d{1,6}$/, 'must be points/seconds, such as 10/60')
  .transform((text) => {
    const [points, windowSeconds] = text.split('/').map(Number) as [number, number];
    return { points, windowSeconds };
  })
  .refine((r) => r.points >= 1 && r.windowSeconds >= 1, 'needs at least 1 point per at least 1 second');

/**
 * Controls DIAGNOSTIC_DISABLE may turn off, for the benchmark's ablation only: CSRF prevention,
 * armor's document limits, error masking (with the request ids on masked errors).
 */
export const DIAGNOSTIC_SWITCHES = ['csrf', 'armor', 'masking'] as const;
export type DiagnosticSwitch = (typeof DIAGNOSTIC_SWITCHES)[number];

/**
 * Default WS_SEND_BUFFER_BYTES: what one graphql-ws socket may hold unsent in the process. These
 * bytes wait only once the kernel's send buffer is full (Linux grows it up to tcp_wmem's maximum,
 * 4 MiB by default; a paused client on loopback took ~4 MB before anything waited here), so a
 * client that reads at all stays far below it. 256 KiB is ~850 order events of ~300 bytes (a
 * frame with version, statuses, time, order id and cursor) beyond what the kernel holds, and keeps
 * 1,000 stalled sockets at once under 256 MiB until they close.
 */
const WS_SEND_BUFFER_DEFAULT_BYTES = 256 * 1024;

/**
 * Default SHUTDOWN_RECONNECT_SPREAD_MS: each reconnect costs a handshake, a token verification and
 * a replay read per subscription; 10 s spreads the 50,000 sockets one instance is sized for to
 * ~5,000 reconnects/s on the remaining instances instead of all at once.
 */
const SHUTDOWN_RECONNECT_SPREAD_DEFAULT_MS = 10_000;

/**
 * Default ORDER_LOG_POLL_MS: the timed read only matters when a ring was lost (Redis or the NOTIFY
 * connection down, an instance killed between its commit and its ring), so it bounds that delay;
 * one small indexed read per second per instance costs nothing measurable, and a commit's own
 * ring still delivers in milliseconds.
 */
const ORDER_LOG_POLL_DEFAULT_MS = 1_000;

/**
 * Default ORDER_LOG_RETENTION_HOURS (7 days): a client that was away over a weekend still resumes
 * from its cursor. The cost is disk: a week at 10 changes/s is ~6 M rows of ~0.5 KB plus their
 * indexes, a few GB; a busier store may keep less.
 */
const ORDER_LOG_RETENTION_DEFAULT_HOURS = 168;

/**
 * Default RESPONSE_CACHE_TTL_MS: entries are invalidated by committed changes, so the TTL only
 * bounds what a lost invalidation could leave (a pub/sub message dropped while Redis was down and
 * not followed by a reconnect); a minute keeps that short and still serves a hot query thousands of times.
 */
const RESPONSE_CACHE_TTL_DEFAULT_MS = 60_000;

/**
 * Default RESPONSE_CACHE_MAX_ENTRIES: most answers are a few KB (an order, a short page), so 10,000
 * entries take tens of MB; were every entry a full 100-product page (~40 KB) it would be ~400 MB,
 * the bound to size an instance's memory by.
 */
const RESPONSE_CACHE_MAX_ENTRIES_DEFAULT = 10_000;

/**
 * Default cost budgets, in cost points (security/measure.ts) per COST_BUDGET_WINDOW_SECONDS (60),
 * by viewer class (docs/adr/0014). BASIC keeps the flat 30,000 a minute every identity had before
 * (RATE_LIMIT_COST), which fits a storefront session (a full 100-product page is ~1,700 points);
 * anonymous clients, one per address and possibly many behind one NAT, get a third; PREMIUM and
 * ENTERPRISE the 2× and 5× their contracts sell; admins 10×, for back-office tools that list every order.
 */
const COST_BUDGET_DEFAULTS = { anonymous: 10_000, basic: 30_000, premium: 60_000, enterprise: 150_000, admin: 300_000 } as const;

/** Cost points per window: a whole number from 1 to 10^12. */
const costPoints = z.coerce.number().int().min(1).max(1e12);

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    DATA_DIR: z.string().min(1).default('.data'),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    DB_DEBUG: bool.default(false),
    MIGRATE_ON_START: bool.optional(),
    SEED_DEMO_DATA: bool.optional(),
    GRAPHIQL: bool.optional(),
    GRAPHQL_JIT: bool.default(true),
    STORE_CURRENCY: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')
      .default('USD'),
    JWT_PRIVATE_KEY: z.string().min(1).optional(),
    JWT_ISSUER: z.string().min(1).default('ordergraph'),
    JWT_AUDIENCE: z.string().min(1).default('ordergraph-api'),
    JWT_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
    // Security (issue #4): token trust, document and transport limits, rate limits.
    JWT_PREVIOUS_PUBLIC_KEYS: z.string().min(1).optional(),
    JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
    JWT_JWKS_ISSUER: z.string().min(1).optional(),
    JWT_JWKS_AUDIENCE: z.string().min(1).optional(),
    INTROSPECTION: bool.optional(),
    TRUSTED_DOCUMENTS: bool.default(false),
    TRUSTED_DOCUMENTS_MANIFEST: z.string().min(1).optional(),
    MAX_BODY_BYTES: z.coerce.number().int().min(1_024).max(10 * 1024 * 1024).default(64 * 1024),
    TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
    WS_ANONYMOUS_IDLE_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
    WS_MAX_SOCKETS_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(100),
    WS_SEND_BUFFER_BYTES: z.coerce.number().int().min(1_024).max(64 * 1024 * 1024).default(WS_SEND_BUFFER_DEFAULT_BYTES),
    RATE_LIMITS: bool.optional(),
    RATE_LIMIT_SIGN_IN: rate.default({ points: 10, windowSeconds: 60 }),
    RATE_LIMIT_PLACE_ORDER: rate.default({ points: 10, windowSeconds: 60 }),
    COST_BUDGET_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
    COST_BUDGET_ANONYMOUS: costPoints.default(COST_BUDGET_DEFAULTS.anonymous),
    COST_BUDGET_BASIC: costPoints.default(COST_BUDGET_DEFAULTS.basic),
    COST_BUDGET_PREMIUM: costPoints.default(COST_BUDGET_DEFAULTS.premium),
    COST_BUDGET_ENTERPRISE: costPoints.default(COST_BUDGET_DEFAULTS.enterprise),
    COST_BUDGET_ADMIN: costPoints.default(COST_BUDGET_DEFAULTS.admin),
    PAYMENT_PROVIDER: z.enum(['simulated', 'http']).default('simulated'),
    PAYMENT_PROVIDER_URL: z.url({ protocol: /^https?$/ }).optional(),
    PAYMENT_PROVIDER_SECRET_KEY: z.string().min(1).optional(),
    PAYMENT_TIMEOUT_MS: z.coerce.number().int().min(1).max(120_000).default(5_000),
    PAYMENT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
    PAYMENT_RETRY_BASE_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(100),
    PAYMENT_RETRY_MAX_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
    PAYMENT_BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(1_000).default(5),
    PAYMENT_BREAKER_HALF_OPEN_MS: z.coerce.number().int().min(1).max(600_000).default(10_000),
    PAYMENT_BULKHEAD_LIMIT: z.coerce.number().int().min(1).max(10_000).default(20),
    PAYMENT_BULKHEAD_QUEUE: z.coerce.number().int().min(0).max(100_000).default(200),
    PAYMENT_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    PAYMENT_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
    RECONCILER_INTERVAL_MS: z.coerce.number().int().min(50).max(3_600_000).default(15_000),
    RECONCILER_GRACE_MS: z.coerce.number().int().min(0).max(86_400_000).optional(),
    RECONCILER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    RECONCILER_BATCH: z.coerce.number().int().min(1).max(10_000).default(100),
    ORDER_LOG_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(ORDER_LOG_POLL_DEFAULT_MS),
    ORDER_LOG_RETENTION_HOURS: z.coerce.number().int().min(1).max(24 * 366).default(ORDER_LOG_RETENTION_DEFAULT_HOURS),
    // Response cache (issue 15, docs/adr/0015).
    RESPONSE_CACHE: bool.default(true),
    RESPONSE_CACHE_TTL_MS: z.coerce.number().int().min(1).max(86_400_000).default(RESPONSE_CACHE_TTL_DEFAULT_MS),
    RESPONSE_CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).max(10_000_000).default(RESPONSE_CACHE_MAX_ENTRIES_DEFAULT),
    CRASH_POINT: z.enum(['payment.before-charge', 'payment.after-charge', 'order.after-commit']).optional(),
    CRASH_POINT_SKIP: z.coerce.number().int().min(0).default(0),
    PAYMENT_SIMULATED_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(150),
    PAYMENT_SIMULATED_DECLINE_ABOVE: z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a decimal amount such as 1000.00')
      .default('1000.00'),
    // Operations (issue #5): scale-out, shutdown, telemetry, metrics.
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(25_000),
    SHUTDOWN_RECONNECT_SPREAD_MS: z.coerce.number().int().min(0).max(600_000).default(SHUTDOWN_RECONNECT_SPREAD_DEFAULT_MS),
    REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(15_000),
    READINESS_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
    METRICS_ENABLED: bool.default(true),
    OTEL_SDK_DISABLED: bool.default(false),
    OTEL_SERVICE_NAME: z.string().min(1).default('ordergraph'),
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
    // Trace sampling (issue 11, docs/adr/0009). The standard pair, when set, replaces our policy.
    OTEL_TRACES_SAMPLER: z.enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio']).optional(),
    OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
    TRACE_SAMPLE_RATIO: z.coerce.number().min(0).max(1).optional(),
    TRACE_SLOW_MS: z.coerce.number().int().min(0).max(600_000).default(1_000),
    // Benchmark diagnostic only (issue 11's ablation): controls without a switch of their own, turned off.
    DIAGNOSTIC_DISABLE: z
      .string()
      .transform((text) => text.split(',').map((item) => item.trim()).filter(Boolean))
      .pipe(z.array(z.enum(DIAGNOSTIC_SWITCHES, { error: `must list only ${DIAGNOSTIC_SWITCHES.join(', ')}` })))
      .default([]),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production') {
      if (!env.DATABASE_URL) ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is required in production (the embedded database is for development only)' });
      if (!env.JWT_PRIVATE_KEY) ctx.addIssue({ code: 'custom', path: ['JWT_PRIVATE_KEY'], message: 'is required in production' });
      if (env.SEED_DEMO_DATA) ctx.addIssue({ code: 'custom', path: ['SEED_DEMO_DATA'], message: 'must not be true in production' });
      if (env.CRASH_POINT) ctx.addIssue({ code: 'custom', path: ['CRASH_POINT'], message: 'is a test-only fault injection and must not be set in production' });
    }
    if (env.OTEL_TRACES_SAMPLER_ARG !== undefined && !env.OTEL_TRACES_SAMPLER) {
      ctx.addIssue({ code: 'custom', path: ['OTEL_TRACES_SAMPLER_ARG'], message: 'applies only with OTEL_TRACES_SAMPLER; for our sampling policy set TRACE_SAMPLE_RATIO' });
    }
    if (env.TRUSTED_DOCUMENTS && !env.TRUSTED_DOCUMENTS_MANIFEST) {
      ctx.addIssue({ code: 'custom', path: ['TRUSTED_DOCUMENTS_MANIFEST'], message: 'is required when TRUSTED_DOCUMENTS=true' });
    }
    if (env.JWT_JWKS_URL && (!env.JWT_JWKS_ISSUER || !env.JWT_JWKS_AUDIENCE)) {
      ctx.addIssue({ code: 'custom', path: ['JWT_JWKS_ISSUER'], message: 'and JWT_JWKS_AUDIENCE are required with JWT_JWKS_URL' });
    }
    if (env.PAYMENT_PROVIDER === 'http') {
      if (!env.PAYMENT_PROVIDER_URL) ctx.addIssue({ code: 'custom', path: ['PAYMENT_PROVIDER_URL'], message: 'is required when PAYMENT_PROVIDER=http' });
      if (!env.PAYMENT_PROVIDER_SECRET_KEY) ctx.addIssue({ code: 'custom', path: ['PAYMENT_PROVIDER_SECRET_KEY'], message: 'is required when PAYMENT_PROVIDER=http' });
    }
  });

/** The application's configuration, parsed once from the environment at start-up. */
export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly graphiql: boolean;
    /** Queries and mutations run through graphql-jit (GRAPHQL_JIT, default true; see docs/adr). */
    readonly jit: boolean;
  };
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly database: {
    /** A real PostgreSQL server, or undefined for the embedded PGlite under `dataDir`. */
    readonly url: string | undefined;
    readonly poolMax: number;
    readonly debug: boolean;
    readonly migrateOnStart: boolean;
  };
  /** Where development state lives: the embedded database and the generated JWT key. */
  readonly dataDir: string;
  readonly seedDemoData: boolean;
  readonly currency: string;
  readonly auth: {
    /** PKCS#8 PEM of the ES256 signing key, or undefined to generate a development key into `dataDir`. */
    readonly privateKeyPem: string | undefined;
    readonly issuer: string;
    readonly audience: string;
    /** Access-token lifetime in seconds. */
    readonly ttlSeconds: number;
    /** SPKI PEMs of earlier signing keys whose unexpired tokens are still accepted (key rotation). */
    readonly previousPublicKeysPem: string | undefined;
    /** An external identity provider whose tokens are accepted, verified against its JWKS. */
    readonly external: { readonly jwksUrl: string; readonly issuer: string; readonly audience: string } | undefined;
  };
  /** Hostile-client controls (src/graphql/security, docs/security.md). */
  readonly security: {
    /** Schema introspection (`__schema`, `__type`); off in production unless INTROSPECTION=true. */
    readonly introspection: boolean;
    /** "Did you mean …?" in error messages; only in development. */
    readonly fieldSuggestions: boolean;
    /** Whether a refused document is told which limit it broke; not in production. */
    readonly exposeLimits: boolean;
    /** Path of the trusted-documents manifest when only its documents may run (TRUSTED_DOCUMENTS=true). */
    readonly trustedDocumentsManifest: string | undefined;
    /** Largest request body in bytes. */
    readonly maxBodyBytes: number;
    /** Proxies in front of the server that append to X-Forwarded-For (0: use the socket's address). */
    readonly trustProxyHops: number;
    /**
     * graphql-ws sockets (src/graphql/ws-lifecycle.ts): a socket that runs no operation for
     * `idleMs` is closed with 4410 (WS_ANONYMOUS_IDLE_MS); one client address holds at most
     * `maxSocketsPerAddress` sockets, further upgrades get HTTP 429 (WS_MAX_SOCKETS_PER_ADDRESS);
     * a socket holding more than `sendBufferBytes` unsent bytes is closed with 4008 and its resume
     * cursor (WS_SEND_BUFFER_BYTES, default 256 KiB).
     */
    readonly ws: { readonly idleMs: number; readonly maxSocketsPerAddress: number; readonly sendBufferBytes: number };
    /** Per-identity rates (points per window), or undefined when rate limiting is off. */
    readonly rateLimits:
      | {
          readonly signIn: { readonly points: number; readonly windowSeconds: number };
          readonly placeOrder: { readonly points: number; readonly windowSeconds: number };
          /**
           * Cost points each identity may spend per window, by viewer class (COST_BUDGET_*; system
           * viewers have none). A window's budget is fixed when it opens (docs/adr/0014).
           */
          readonly costBudgets: CostBudgetSettings;
        }
      | undefined;
  };
  readonly payments: {
    readonly provider: 'simulated' | 'http';
    /** The HTTP provider's base URL and secret key (PAYMENT_PROVIDER=http). */
    readonly http: { readonly url: string | undefined; readonly secretKey: string | undefined };
    /** Timeout of one attempt towards the provider in ms (the seeds: 5 s). */
    readonly timeoutMs: number;
    /** Attempts per provider call, and the full-jitter backoff between them (ms). */
    readonly retry: { readonly maxAttempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
    /** Consecutive failures that open the circuit breaker, and ms before a half-open probe. */
    readonly breaker: { readonly threshold: number; readonly halfOpenAfterMs: number };
    /** Concurrent provider calls, and calls allowed to queue for a slot. */
    readonly bulkhead: { readonly limit: number; readonly queue: number };
    /**
     * Upper bound of one whole provider call in ms: every attempt timing out plus the longest
     * backoffs between them.
     */
    readonly callBudgetMs: number;
    /** Shared secret of webhook signatures (webhooks are refused without it), and the timestamp tolerance in ms. */
    readonly webhook: { readonly secret: string | undefined; readonly toleranceMs: number };
    readonly simulated: {
      /** Added latency per simulated call in ms. */
      readonly latencyMs: number;
      /** Charges strictly above this decimal amount (store currency) are declined. */
      readonly declineAbove: string;
    };
  };
  /** The payment reconciler: how often it runs, how old an unknown outcome must be (ms), workers and batch. */
  readonly reconciler: { readonly intervalMs: number; readonly graceMs: number; readonly concurrency: number; readonly batch: number };
  /**
   * The order log (ADR 0012): each instance's reader also reads `pollMs` after its last read
   * (ORDER_LOG_POLL_MS), so an event whose doorbell ring was lost arrives that much later at most;
   * rows are kept `retentionMs` (ORDER_LOG_RETENTION_HOURS), and a cursor older than that is
   * answered CURSOR_EXPIRED.
   */
  readonly orderLog: { readonly pollMs: number; readonly retentionMs: number };
  /**
   * The response cache of queries (docs/adr/0015), per instance: entries live `ttlMs` at most
   * (RESPONSE_CACHE_TTL_MS, default 60 s) and at most `maxEntries` are kept (RESPONSE_CACHE_MAX_ENTRIES,
   * default 10,000); undefined when RESPONSE_CACHE=false.
   */
  readonly responseCache: { readonly ttlMs: number; readonly maxEntries: number } | undefined;
  /** Redis for pub/sub between instances (and shared rate-limit state); undefined: in-process, one instance. */
  readonly redisUrl: string | undefined;
  /** Shutdown: ms that in-flight HTTP requests get to finish after SIGTERM/SIGINT before connections are cut. */
  readonly shutdownGraceMs: number;
  /**
   * Shutdown: graphql-ws sockets are closed with 1012 and told to reconnect after a delay drawn
   * uniformly from [0, this) ms (SHUTDOWN_RECONNECT_SPREAD_MS, default 10 s), so their clients
   * do not all come back at once.
   */
  readonly shutdownReconnectSpreadMs: number;
  /**
   * Deadline of one query or mutation in ms (REQUEST_TIMEOUT_MS): past it, its running SQL is
   * cancelled and it answers REQUEST_TIMEOUT (src/graphql/security/request-deadline.ts).
   */
  readonly requestTimeoutMs: number;
  /** Longest wait of one readiness check (database, Redis) in ms before it counts as down. */
  readonly readinessTimeoutMs: number;
  /** Prometheus metrics on GET /metrics. */
  readonly metrics: { readonly enabled: boolean };
  /**
   * OpenTelemetry tracing, started by src/platform/telemetry/register.ts before the app loads. Spans
   * are made whenever enabled (logs carry their ids) and exported over OTLP/HTTP only when
   * `otlpEndpoint` is set; the exporter itself reads the other standard `OTEL_EXPORTER_OTLP_*` variables.
   * `sampling`: our policy (docs/adr/0009): new traces sampled at `ratio` (0–1; 1 outside production,
   * 0.1 in production), failed traces and those lasting `slowMs` or more kept; undefined when
   * OTEL_TRACES_SAMPLER is set, which then decides alone as the SDK implements it.
   */
  readonly telemetry: {
    readonly enabled: boolean;
    readonly serviceName: string;
    readonly otlpEndpoint: string | undefined;
    readonly sampling: { readonly ratio: number; readonly slowMs: number } | undefined;
  };
  /**
   * Controls turned off by DIAGNOSTIC_DISABLE: a benchmark diagnostic (`npm run bench` with
   * BENCH_ABLATION=true measures what each costs), never for production. Empty by default.
   */
  readonly diagnostics: { readonly disabled: ReadonlySet<DiagnosticSwitch> };
  /** Test-only fault injection: the crash point to arm and passes to let by first. */
  readonly crash: { readonly point: 'payment.before-charge' | 'payment.after-charge' | 'order.after-commit' | undefined; readonly skip: number };
}

/** The environment after parsing: defaults applied, numbers and booleans converted. */
type Env = z.infer<typeof envSchema>;

/** Attempts × attempt timeout + the longest backoffs between attempts, in ms. */
function callBudgetMs(env: { PAYMENT_MAX_ATTEMPTS: number; PAYMENT_TIMEOUT_MS: number; PAYMENT_RETRY_MAX_DELAY_MS: number }): number {
  return env.PAYMENT_MAX_ATTEMPTS * env.PAYMENT_TIMEOUT_MS + (env.PAYMENT_MAX_ATTEMPTS - 1) * env.PAYMENT_RETRY_MAX_DELAY_MS;
}

/** The `security` section: production turns off introspection and the limits' details. */
function securityConfig(env: Env, production: boolean): Config['security'] {
  return {
    introspection: env.INTROSPECTION ?? !production,
    fieldSuggestions: env.NODE_ENV === 'development',
    exposeLimits: !production,
    trustedDocumentsManifest: env.TRUSTED_DOCUMENTS ? env.TRUSTED_DOCUMENTS_MANIFEST : undefined,
    maxBodyBytes: env.MAX_BODY_BYTES,
    trustProxyHops: env.TRUST_PROXY_HOPS,
    ws: { idleMs: env.WS_ANONYMOUS_IDLE_MS, maxSocketsPerAddress: env.WS_MAX_SOCKETS_PER_ADDRESS, sendBufferBytes: env.WS_SEND_BUFFER_BYTES },
    // Off by default under NODE_ENV=test, where every test client shares 127.0.0.1; the security
    // tests turn them on with short windows.
    rateLimits:
      (env.RATE_LIMITS ?? env.NODE_ENV !== 'test')
        ? {
            signIn: env.RATE_LIMIT_SIGN_IN,
            placeOrder: env.RATE_LIMIT_PLACE_ORDER,
            costBudgets: {
              windowSeconds: env.COST_BUDGET_WINDOW_SECONDS,
              anonymous: env.COST_BUDGET_ANONYMOUS,
              basic: env.COST_BUDGET_BASIC,
              premium: env.COST_BUDGET_PREMIUM,
              enterprise: env.COST_BUDGET_ENTERPRISE,
              admin: env.COST_BUDGET_ADMIN,
            },
          }
        : undefined,
  };
}

/** The `payments` section: provider, resilience policies (ms), webhook and simulator settings. */
function paymentsConfig(env: Env): Config['payments'] {
  return {
    provider: env.PAYMENT_PROVIDER,
    http: { url: env.PAYMENT_PROVIDER_URL, secretKey: env.PAYMENT_PROVIDER_SECRET_KEY },
    timeoutMs: env.PAYMENT_TIMEOUT_MS,
    retry: { maxAttempts: env.PAYMENT_MAX_ATTEMPTS, baseDelayMs: env.PAYMENT_RETRY_BASE_DELAY_MS, maxDelayMs: env.PAYMENT_RETRY_MAX_DELAY_MS },
    breaker: { threshold: env.PAYMENT_BREAKER_THRESHOLD, halfOpenAfterMs: env.PAYMENT_BREAKER_HALF_OPEN_MS },
    bulkhead: { limit: env.PAYMENT_BULKHEAD_LIMIT, queue: env.PAYMENT_BULKHEAD_QUEUE },
    callBudgetMs: callBudgetMs(env),
    webhook: { secret: env.PAYMENT_WEBHOOK_SECRET, toleranceMs: env.PAYMENT_WEBHOOK_TOLERANCE_SECONDS * 1_000 },
    simulated: { latencyMs: env.PAYMENT_SIMULATED_LATENCY_MS, declineAbove: env.PAYMENT_SIMULATED_DECLINE_ABOVE },
  };
}

/** Thrown when the environment is invalid; `problems` names every offending variable. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/**
 * Parses the environment (default: `process.env`) into a {@link Config}.
 * @throws ConfigError listing every invalid or missing variable at once.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'} ${issue.message}`));
  }
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';
  return {
    env: env.NODE_ENV,
    http: { host: env.HOST, port: env.PORT, graphiql: env.GRAPHIQL ?? !production, jit: env.GRAPHQL_JIT },
    logLevel: env.LOG_LEVEL,
    database: {
      url: env.DATABASE_URL,
      poolMax: env.DB_POOL_MAX,
      debug: env.DB_DEBUG,
      migrateOnStart: env.MIGRATE_ON_START ?? !production,
    },
    dataDir: env.DATA_DIR,
    seedDemoData: env.SEED_DEMO_DATA ?? !production,
    currency: env.STORE_CURRENCY,
    auth: {
      privateKeyPem: env.JWT_PRIVATE_KEY,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      ttlSeconds: env.JWT_TTL_SECONDS,
      previousPublicKeysPem: env.JWT_PREVIOUS_PUBLIC_KEYS,
      external:
        env.JWT_JWKS_URL && env.JWT_JWKS_ISSUER && env.JWT_JWKS_AUDIENCE
          ? { jwksUrl: env.JWT_JWKS_URL, issuer: env.JWT_JWKS_ISSUER, audience: env.JWT_JWKS_AUDIENCE }
          : undefined,
    },
    security: securityConfig(env, production),
    payments: paymentsConfig(env),
    reconciler: {
      intervalMs: env.RECONCILER_INTERVAL_MS,
      // Longer than any charge can still be on its way, so "no charge found" is final.
      graceMs: env.RECONCILER_GRACE_MS ?? callBudgetMs(env) + 10_000,
      concurrency: env.RECONCILER_CONCURRENCY,
      batch: env.RECONCILER_BATCH,
    },
    orderLog: { pollMs: env.ORDER_LOG_POLL_MS, retentionMs: env.ORDER_LOG_RETENTION_HOURS * 3_600_000 },
    responseCache: env.RESPONSE_CACHE ? { ttlMs: env.RESPONSE_CACHE_TTL_MS, maxEntries: env.RESPONSE_CACHE_MAX_ENTRIES } : undefined,
    crash: { point: env.CRASH_POINT, skip: env.CRASH_POINT_SKIP },
    redisUrl: env.REDIS_URL,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    shutdownReconnectSpreadMs: env.SHUTDOWN_RECONNECT_SPREAD_MS,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    readinessTimeoutMs: env.READINESS_TIMEOUT_MS,
    metrics: { enabled: env.METRICS_ENABLED },
    telemetry: {
      enabled: !env.OTEL_SDK_DISABLED,
      serviceName: env.OTEL_SERVICE_NAME,
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      sampling: env.OTEL_TRACES_SAMPLER ? undefined : { ratio: env.TRACE_SAMPLE_RATIO ?? (production ? 0.1 : 1), slowMs: env.TRACE_SLOW_MS },
    },
    diagnostics: { disabled: new Set(env.DIAGNOSTIC_DISABLE) },
  };
}
