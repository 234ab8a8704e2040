import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import type { IConfiguration, ICruiseResult, IViolation } from 'dependency-cruiser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The rules of .dependency-cruiser.cjs (ADR 0010), run through dependency-cruiser's API on a small
// tree with one deliberate violation per rule (and the allowed neighbours of each), then on the
// real tree, which must have none. `npm run lint:deps` is the same check as a CI step.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const config = createRequire(import.meta.url)('../../.dependency-cruiser.cjs') as IConfiguration;

/** Packages the framework rule names; each a stub in the fixture's node_modules. */
const FRAMEWORK_PACKAGES = ['@mikro-orm/core', 'graphql', '@pothos/core', 'graphql-yoga', 'ioredis', 'pg'];

/** Two modules (alpha, beta), composition code, tests and a benchmark, as laid out in ADR 0010. */
const FIXTURE: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'fixture', type: 'module', dependencies: Object.fromEntries(FRAMEWORK_PACKAGES.map((name) => [name, '1.0.0'])) }),

  // Allowed shape: descriptor and contract per module, the composition root using both.
  'src/app.ts': "import { alphaModule } from './modules/alpha/module.ts';\nimport { betaModule } from './modules/beta/module.ts';\nimport type { Thing } from './modules/alpha/public.ts';\nexport const modules = [alphaModule, betaModule];\nexport type { Thing };\n",
  'src/modules/descriptor.ts': 'export type Descriptor = { name: string };\n',
  'src/modules/alpha/module.ts': "import type { Descriptor } from '../descriptor.ts';\nimport { repo } from './infrastructure/repo.ts';\nimport { alphaTypes } from './graphql/types.ts';\nimport { useBeta } from './application/use-beta.ts';\nimport { wire } from './infrastructure/wire.ts';\nexport const alphaModule = { repo, alphaTypes, useBeta, wire, name: 'alpha' } satisfies Descriptor;\n",
  'src/modules/alpha/public.ts': "export type { Thing } from './application/ports.ts';\n",
  'src/modules/alpha/application/ports.ts': "import type { Order } from '../domain/order.ts';\nexport type Thing = { order: Order };\n",
  'src/modules/alpha/domain/order.ts': 'export type Order = { id: string };\n',
  'src/modules/alpha/infrastructure/repo.ts': "import type { Thing } from '../application/ports.ts';\nimport { betaThing } from '../../beta/public.ts';\nexport const repo = (thing: Thing) => [thing, betaThing];\n",
  'src/modules/beta/module.ts': "import { betaThing } from './public.ts';\nexport const betaModule = { betaThing };\n",
  'src/modules/beta/public.ts': "export { betaThing } from './application/ports.ts';\n",
  'src/modules/beta/application/ports.ts': "import type { Part } from '../domain/part.ts';\nexport const betaThing: Part | undefined = undefined;\n",
  'src/modules/beta/domain/part.ts': 'export type Part = { sku: string };\n',

  // no-circular, through type-only imports.
  'src/modules/alpha/domain/cycle-a.ts': "import type { B } from './cycle-b.ts';\nexport type A = { b?: B };\n",
  'src/modules/alpha/domain/cycle-b.ts': "import type { A } from './cycle-a.ts';\nexport type B = { a?: A };\n",

  // module-imports-other-module-only-via-public: a layer file and the descriptor of another module.
  'src/modules/alpha/application/use-beta.ts': "import type { Part } from '../../beta/domain/part.ts';\nimport { betaThing } from '../../beta/public.ts';\nimport type { A } from '../domain/cycle-a.ts';\nexport const useBeta = (part: Part, a: A) => [part, a, betaThing];\n",
  'src/modules/alpha/infrastructure/wire.ts': "import { betaModule } from '../../beta/module.ts';\nexport const wire = betaModule;\n",

  // composition-imports-module-only-via-public-or-descriptor.
  'src/graphql/schema.ts': "import { repo } from '../modules/alpha/infrastructure/repo.ts';\nimport { alphaModule } from '../modules/alpha/module.ts';\nexport const schema = [repo, alphaModule];\n",

  // domain-and-application-free-of-frameworks: every named package, and the adapter folders.
  'src/modules/alpha/application/leaky.ts': [
    ...FRAMEWORK_PACKAGES.map((name, i) => `import * as p${i} from '${name}';\n`),
    "import { repo } from '../infrastructure/repo.ts';\n",
    "import type { AlphaTypes } from '../graphql/types.ts';\n",
    "import { schema } from '../../../graphql/schema.ts';\n",
    `export const leaky = [${FRAMEWORK_PACKAGES.map((_, i) => `p${i}`).join(', ')}, repo, schema] as unknown as AlphaTypes;\n`,
  ].join(''),
  'src/modules/alpha/domain/entity.ts': "import type { Ref } from '@mikro-orm/core';\nimport { leaky } from '../application/leaky.ts';\nexport type Entity = { ref?: Ref<unknown> };\nexport const uses = leaky;\n",

  // domain-is-pure (entity.ts above also imports application/, counted here too).
  'src/modules/alpha/domain/rules.ts': "import type { Thing } from '../application/ports.ts';\nimport type { Order } from './order.ts';\nimport type { Entity } from './entity.ts';\nexport const rule = (thing: Thing, order: Order, entity: Entity) => [thing, order, entity];\n",

  // module-graphql-via-public-only: application/ directly; public.ts and domain/ are fine.
  'src/modules/alpha/graphql/types.ts': "import type { Thing } from '../application/ports.ts';\nimport type { Thing as PublicThing } from '../public.ts';\nimport type { Order } from '../domain/order.ts';\nexport type AlphaTypes = [Thing, PublicThing, Order];\nexport const alphaTypes = (types: AlphaTypes) => types;\n",

  // src-not-to-test-or-bench: production code and a test file under src/.
  'src/platform/clock.ts': "import { fakeClock } from '../../test/fakes/clock.ts';\nexport const clock = fakeClock;\n",
  'src/platform/clock.test.ts': "import { clock } from './clock.ts';\nimport { eventually } from '../../test/support/eventually.ts';\nexport const check = [clock, eventually];\n",
  'test/fakes/clock.ts': 'export const fakeClock = () => 0;\n',
  'test/support/eventually.ts': 'export const eventually = () => undefined;\n',

  // tests-reach-internals-only-from-their-module-folder; module tests and fakes may.
  'test/e2e/flow.test.ts': "import { repo } from '../../src/modules/alpha/infrastructure/repo.ts';\nimport { alphaModule } from '../../src/modules/alpha/module.ts';\nimport type { Thing } from '../../src/modules/alpha/public.ts';\nimport { modules } from '../../src/app.ts';\nexport const flow = [repo, alphaModule, modules] as Thing[];\n",
  'bench/run.ts': "import type { Part } from '../src/modules/beta/domain/part.ts';\nimport { betaThing } from '../src/modules/beta/public.ts';\nexport const run: Part | undefined = betaThing;\n",
  'test/unit/modules/alpha/repo.test.ts': "import { repo } from '../../../../src/modules/alpha/infrastructure/repo.ts';\nimport { betaThing } from '../../../../src/modules/beta/public.ts';\nimport { fakeBeta } from '../../../fakes/beta.ts';\nexport const t = [repo, betaThing, fakeBeta];\n",
  'test/integration/modules/beta/ports.test.ts': "import { betaThing } from '../../../../src/modules/beta/application/ports.ts';\nexport const t = betaThing;\n",
  'test/fakes/beta.ts': "import type { Part } from '../../src/modules/beta/domain/part.ts';\nexport const fakeBeta: Part = { sku: 'x' };\n",

  // module-tests-reach-only-their-own-internals.
  'test/unit/modules/alpha/cross.test.ts': "import { betaThing } from '../../../../src/modules/beta/application/ports.ts';\nimport { alphaModule } from '../../../../src/modules/alpha/module.ts';\nexport const t = [betaThing, alphaModule];\n",

  // not-to-unresolvable.
  'src/platform/missing.ts': "import { gone } from './nowhere.ts';\nexport const missing = gone;\n",

  // no-orphans.
  'src/platform/lonely.ts': 'export const lonely = 1;\n',
};

/** Per rule, every `from → to` it must report on FIXTURE (an orphan: its file alone), and no other. */
const EXPECTED: Record<string, string[]> = {
  // A cycle is reported once, at the edge where the cruise first closed it.
  'no-circular': ['src/modules/alpha/domain/cycle-a.ts → src/modules/alpha/domain/cycle-b.ts'],
  'module-imports-other-module-only-via-public': [
    'src/modules/alpha/application/use-beta.ts → src/modules/beta/domain/part.ts',
    'src/modules/alpha/infrastructure/wire.ts → src/modules/beta/module.ts',
  ],
  'composition-imports-module-only-via-public-or-descriptor': ['src/graphql/schema.ts → src/modules/alpha/infrastructure/repo.ts'],
  'domain-and-application-free-of-frameworks': [
    ...FRAMEWORK_PACKAGES.map((name) => `src/modules/alpha/application/leaky.ts → node_modules/${name}/index.js`),
    'src/modules/alpha/application/leaky.ts → src/graphql/schema.ts',
    'src/modules/alpha/application/leaky.ts → src/modules/alpha/graphql/types.ts',
    'src/modules/alpha/application/leaky.ts → src/modules/alpha/infrastructure/repo.ts',
    'src/modules/alpha/domain/entity.ts → node_modules/@mikro-orm/core/index.js',
  ],
  'domain-is-pure': [
    'src/modules/alpha/domain/entity.ts → src/modules/alpha/application/leaky.ts',
    'src/modules/alpha/domain/rules.ts → src/modules/alpha/application/ports.ts',
  ],
  'module-graphql-via-public-only': ['src/modules/alpha/graphql/types.ts → src/modules/alpha/application/ports.ts'],
  'src-not-to-test-or-bench': ['src/platform/clock.test.ts → test/support/eventually.ts', 'src/platform/clock.ts → test/fakes/clock.ts'],
  'tests-reach-internals-only-from-their-module-folder': [
    'bench/run.ts → src/modules/beta/domain/part.ts',
    'test/e2e/flow.test.ts → src/modules/alpha/infrastructure/repo.ts',
  ],
  'module-tests-reach-only-their-own-internals': ['test/unit/modules/alpha/cross.test.ts → src/modules/beta/application/ports.ts'],
  'not-to-unresolvable': ['src/platform/missing.ts → ./nowhere.ts'],
  'no-orphans': ['src/platform/lonely.ts'],
};

/** Cruises `src test bench` under `baseDir` with the project's rules, as `npm run lint:deps` does. */
async function cruiseWithProjectRules(baseDir: string): Promise<ICruiseResult> {
  const dirs = ['src', 'test', 'bench'];
  const { output } = await cruise(dirs, { ...config.options, ruleSet: { forbidden: config.forbidden ?? [] }, validate: true, baseDir });
  if (typeof output === 'string') throw new Error('dependency-cruiser returned formatted output instead of a result');
  return output;
}

function describeViolation(violation: IViolation): string {
  return violation.from === violation.to ? violation.from : `${violation.from} → ${violation.to}`;
}

function violationsByRule(result: ICruiseResult): Record<string, string[]> {
  const byRule: Record<string, string[]> = {};
  for (const violation of result.summary.violations) (byRule[violation.rule.name] ??= []).push(describeViolation(violation));
  for (const list of Object.values(byRule)) list.sort();
  return byRule;
}

function writeFixture(root: string): void {
  const stubs = Object.fromEntries(
    FRAMEWORK_PACKAGES.flatMap((name) => [
      [`node_modules/${name}/package.json`, JSON.stringify({ name, version: '1.0.0', main: 'index.js' })],
      [`node_modules/${name}/index.js`, 'module.exports = {};\n'],
    ]),
  );
  for (const [path, text] of Object.entries({ ...FIXTURE, ...stubs })) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

describe('module boundary rules (.dependency-cruiser.cjs)', () => {
  let fixtureRoot: string;
  let fixtureResult: ICruiseResult;

  beforeAll(async () => {
    fixtureRoot = mkdtempSync(join(tmpdir(), 'ordergraph-boundaries-'));
    writeFixture(fixtureRoot);
    fixtureResult = await cruiseWithProjectRules(fixtureRoot);
  });

  afterAll(() => {
    if (fixtureRoot) rmSync(fixtureRoot, { recursive: true, force: true });
  });

  it('has a fixture case for every rule in the config, and nothing else', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual((config.forbidden ?? []).map((rule) => rule.name).sort());
  });

  it('cruised the whole fixture (the swc parser is in use: TypeScript 7 has no API for it)', () => {
    expect(fixtureResult.summary.totalCruised).toBeGreaterThanOrEqual(Object.keys(FIXTURE).length - 1);
  });

  it.each(Object.keys(EXPECTED))('%s reports exactly its deliberate violations', (rule) => {
    expect(violationsByRule(fixtureResult)[rule] ?? []).toEqual([...(EXPECTED[rule] ?? [])].sort());
  });

  it('the real tree (src, test, bench) breaks none of them', async () => {
    const result = await cruiseWithProjectRules(ROOT);
    expect(result.summary.totalCruised).toBeGreaterThan(100);
    expect(result.summary.violations.map((violation) => `${violation.rule.name}: ${describeViolation(violation)}`)).toEqual([]);
  });
});
