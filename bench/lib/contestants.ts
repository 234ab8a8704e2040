import type { ShapeName } from './shapes.ts';

/** The servers `npm run bench` measures side by side (issue 11). */
export type ContestantId = 'R' | 'O' | 'Oc' | 'Obase' | 'Obare' | 'A' | 'A+' | 'M' | 'P';

/** How a contestant is described in the report, what it runs and which shapes it answers. */
export interface ContestantInfo {
  readonly label: string;
  readonly description: string;
  /** Its entry point under bench/contestants/ (O and O bare run Ordergraph itself). */
  readonly script: string | undefined;
  readonly shapes: readonly ShapeName[];
}

export const CONTESTANTS: Record<ContestantId, ContestantInfo> = {
  R: {
    label: 'R raw',
    description: '`node:http` + `pg`, one hand-written SQL statement per shape that renders the whole response in PostgreSQL: the practical limit',
    script: 'bench/contestants/raw.ts',
    shapes: ['S1', 'S2', 'S3'],
  },
  O: {
    label: 'O as shipped',
    description: 'Ordergraph in its production configuration: NODE_ENV=production, spans exported over OTLP at the production sampling default (10 % of traces, and every failed or slow one; docs/adr/0009), metrics, the info access log, rate limits; the response cache off (RESPONSE_CACHE=false), so every request runs the uncached path the peers run',
    script: undefined,
    shapes: ['S1', 'S2', 'S3'],
  },
  Oc: {
    label: 'O cached',
    description: 'O with the response cache on (its default, docs/adr/0015): after the warm-up, S1 and S2 requests are mostly cache hits (hit ratio reported)',
    script: undefined,
    shapes: ['S1', 'S2'],
  },
  Obase: {
    label: 'O before',
    description: 'O (response cache off), from the checkout at BENCH_BASE_ROOT (an earlier commit, e.g. a `git worktree`), run side by side with O for before/after ratios; only when BENCH_BASE_ROOT is set',
    script: undefined,
    shapes: ['S1', 'S2', 'S3'],
  },
  Obare: {
    label: 'O bare',
    description: 'the same Ordergraph build with tracing, metrics, the access log and rate limits off (OTEL_SDK_DISABLED=true, METRICS_ENABLED=false, LOG_LEVEL=warn, RATE_LIMITS=false)',
    script: undefined,
    shapes: ['S1', 'S2', 'S3'],
  },
  'A+': {
    label: 'A+ Apollo 5 + DataLoader',
    description: 'Apollo Server 5 with a DataLoader per type and relation over `pg` (one statement per loader batch)',
    script: 'bench/contestants/apollo-dataloader.ts',
    shapes: ['S1', 'S2'],
  },
  M: {
    label: 'M Mercurius + jit + loaders',
    description: 'Fastify 5 + Mercurius 16 with graphql-jit and Mercurius loaders over `pg`',
    script: 'bench/contestants/mercurius.ts',
    shapes: ['S1', 'S2'],
  },
  P: {
    label: 'P PostGraphile 5',
    description: 'PostGraphile 5 over the same tables (compiled SQL)',
    script: 'bench/contestants/postgraphile.ts',
    shapes: ['S1', 'S2'],
  },
  A: {
    label: 'A naive Apollo',
    description: 'Apollo Server 5 with per-field queries and no DataLoader: the N+1 reference',
    script: 'bench/contestants/apollo.ts',
    shapes: ['S1', 'S2', 'S3'],
  },
};

export const CONTESTANT_IDS = Object.keys(CONTESTANTS) as ContestantId[];

/** Environment of O bare on top of O's: the four production features issue 11 takes off. */
export const BARE_ENV: Readonly<Record<string, string>> = {
  OTEL_SDK_DISABLED: 'true',
  METRICS_ENABLED: 'false',
  // The access log is the info-level `graphql operation` line (platform/observability/log-context.ts);
  // the log level is its only switch, so warn also drops any other info line (none per request).
  LOG_LEVEL: 'warn',
  RATE_LIMITS: 'false',
  RESPONSE_CACHE: 'false',
};

/** One production feature of O turned off, for the ablation (BENCH_ABLATION=true). */
export interface AblationVariant {
  readonly id: string;
  readonly feature: string;
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The ablation of issue 11: O with one feature off at a time. Tracing, trace sampling, metrics, the
 * access log, rate limits and jit have configuration switches; armor's document limits, CSRF prevention and
 * error masking have only the benchmark diagnostic DIAGNOSTIC_DISABLE (src/config.ts).
 */
export const ABLATION_VARIANTS: readonly AblationVariant[] = [
  { id: 'tracing', feature: 'tracing (OpenTelemetry SDK, OTLP export)', env: { OTEL_SDK_DISABLED: 'true' } },
  // The other sampling setting the issue asks to report: every trace exported, as before docs/adr/0009
  // (its "cost" is negative: what the default sampling saves).
  { id: 'sampling', feature: 'trace sampling (off: every trace exported)', env: { TRACE_SAMPLE_RATIO: '1' } },
  { id: 'metrics', feature: 'Prometheus metrics', env: { METRICS_ENABLED: 'false' } },
  { id: 'access-log', feature: 'access log (LOG_LEVEL=warn)', env: { LOG_LEVEL: 'warn' } },
  { id: 'rate-limits', feature: 'rate limits', env: { RATE_LIMITS: 'false' } },
  { id: 'armor', feature: 'armor document limits', env: { DIAGNOSTIC_DISABLE: 'armor' } },
  { id: 'csrf', feature: 'CSRF prevention', env: { DIAGNOSTIC_DISABLE: 'csrf' } },
  { id: 'masking', feature: 'error masking', env: { DIAGNOSTIC_DISABLE: 'masking' } },
  { id: 'jit', feature: 'graphql-jit (GRAPHQL_JIT=false)', env: { GRAPHQL_JIT: 'false' } },
];
