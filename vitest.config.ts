import { configDefaults, defineConfig } from 'vitest/config';

// The suite in five projects (`npm run test:<name>`, or `npx vitest run --project chaos`; `npm test`
// runs them all, one group after the other). A file belongs to the first list that names it; a new file under src/ or test/unit/
// defaults to unit, one anywhere else under test/ to integration.
//
// Tests colocated in src/ use nothing from test/ (no fakes, no database helpers); a test that needs
// them lives at its mirror path under test/unit/modules/ or test/integration/modules/.

/** Test files with I/O of their own under src/ (an HTTP server, files, processes). */
const SRC_WITH_IO = ['src/modules/customers/infrastructure/jose-token-service.test.ts', 'src/platform/crash-points.test.ts'];

/**
 * Test files under test/ with no I/O beyond reading checked-in files: use cases and resolvers on
 * the in-memory fakes of test/fakes/ (test/unit/), config parsing, the schema, document limits.
 * With src/ less SRC_WITH_IO (domain rules) they make the unit project, which runs in seconds.
 */
const UNIT_UNDER_TEST = [
  'test/architecture/function-length.test.ts',
  'test/unit/**/*.test.ts',
  'test/schema-drift.test.ts',
  'test/ops/{config,compose}.test.ts',
  'test/security/{config,identity,limits}.test.ts',
  'test/chaos/verdict.test.ts',
];

/**
 * Started server processes (`npm start`, `node src/main.ts`), other spawned processes, a browser.
 * Every test/ops file but the three named (a new one there starts gateways, as they do).
 */
const E2E = [
  'test/e2e/graphiql-walkthrough.test.ts',
  'test/ops/!(config|compose|error-classification).test.ts',
  'test/payments/crash-run.test.ts',
  'test/node-version-guard.test.ts',
  'src/platform/crash-points.test.ts',
];

/**
 * Timing and heap checks, run alone after everything else so other work skews them less; each
 * file documents its threshold at its top.
 */
const MEASURED = [
  'test/integration/modules/customers/application/sign-in-timing.test.ts',
  'test/security/adversarial-heap.test.ts',
  'test/payments/breaker-fail-fast.test.ts',
];

/**
 * The chaos run of issue 14 (test/chaos/chaos-run.test.ts: 3 gateway processes, a private Redis,
 * 300+ clients, ~2–3 minutes): run last and alone, so it neither starves nor is starved by the
 * other groups on 2 cores.
 */
const CHAOS = ['test/chaos/chaos-run.test.ts'];

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds; Node and the externalised libraries
    // (Pothos, yoga) load the CJS one, so source files must too, or instanceof checks fail.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // CI fails on any skipped or todo test (see .ci/run): nothing may be silently left out.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', ...UNIT_UNDER_TEST],
          exclude: [...configDefaults.exclude, ...SRC_WITH_IO],
          // Nothing shared to contend for: one worker per core, threads, and the modules of one
          // worker's files loaded once (no isolation) — 4–6 s instead of 11–14 s on 2 busy cores,
          // most of it loading modules. Safe while unit tests keep to their own fakes: none mocks
          // a module, stubs a global or the environment, or leaves fake timers on.
          pool: 'threads',
          isolate: false,
          maxWorkers: '100%',
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts', ...SRC_WITH_IO],
          exclude: [...configDefaults.exclude, ...UNIT_UNDER_TEST, ...E2E, ...MEASURED, ...CHAOS],
          // Each database test file gets its own database; two at a time fits 2 cores.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: E2E,
          // Shares the integration group's two workers (same group order, same maxWorkers).
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'measured',
          include: MEASURED,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
      {
        extends: true,
        test: {
          name: 'chaos',
          include: CHAOS,
          maxWorkers: 1,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
