import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds; Node and the externalised libraries
    // (Pothos, yoga) load the CJS one, so source files must too, or instanceof checks fail.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each database test file gets its own database; two at a time fits 2 cores.
    pool: 'forks',
    maxWorkers: 2,
    // CI fails on any skipped or todo test (see .ci/run): nothing may be silently left out.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
