import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

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
    STORE_CURRENCY: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')
      .default('USD'),
    JWT_PRIVATE_KEY: z.string().min(1).optional(),
    JWT_ISSUER: z.string().min(1).default('ordergraph'),
    JWT_AUDIENCE: z.string().min(1).default('ordergraph-api'),
    JWT_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
    PAYMENT_PROVIDER: z.enum(['simulated']).default('simulated'),
    PAYMENT_TIMEOUT_MS: z.coerce.number().int().min(1).max(120_000).default(5_000),
    PAYMENT_SIMULATED_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(150),
    PAYMENT_SIMULATED_DECLINE_ABOVE: z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a decimal amount such as 1000.00')
      .default('1000.00'),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production') {
      if (!env.DATABASE_URL) ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is required in production (the embedded database is for development only)' });
      if (!env.JWT_PRIVATE_KEY) ctx.addIssue({ code: 'custom', path: ['JWT_PRIVATE_KEY'], message: 'is required in production' });
      if (env.SEED_DEMO_DATA) ctx.addIssue({ code: 'custom', path: ['SEED_DEMO_DATA'], message: 'must not be true in production' });
    }
  });

/** The application's configuration, parsed once from the environment at start-up. */
export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly http: { readonly host: string; readonly port: number; readonly graphiql: boolean };
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
  };
  readonly payments: {
    readonly provider: 'simulated';
    /** Per-call timeout towards the provider in ms (the seeds: 5 s). */
    readonly timeoutMs: number;
    readonly simulated: {
      /** Added latency per simulated call in ms. */
      readonly latencyMs: number;
      /** Charges strictly above this decimal amount (store currency) are declined. */
      readonly declineAbove: string;
    };
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
    http: { host: env.HOST, port: env.PORT, graphiql: env.GRAPHIQL ?? !production },
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
    },
    payments: {
      provider: env.PAYMENT_PROVIDER,
      timeoutMs: env.PAYMENT_TIMEOUT_MS,
      simulated: { latencyMs: env.PAYMENT_SIMULATED_LATENCY_MS, declineAbove: env.PAYMENT_SIMULATED_DECLINE_ABOVE },
    },
  };
}
