// Module boundaries of ADR 0001 as refined by ADR 0010, checked in CI by `npm run lint:deps`
// (`depcruise src test bench --config .dependency-cruiser.cjs`) and proven to bite by
// test/architecture/dependency-rules.test.ts, which cruises one deliberate violation per rule.
//
// Paths are relative to the repository root, forward slashes. `$1` in a `to` pattern is the first
// group that the rule's `from.path` captured (the importing file's module).

/** The layers inside a module; everything but `public.ts` and `module.ts` is internal to it. */
const INTERNALS = '(domain|application|infrastructure|graphql)';

/** Libraries that tie code to a database, a transport or GraphQL: adapters' business, not rules'. */
const FRAMEWORK_PACKAGES = [
  '^node_modules/@mikro-orm/',
  '^node_modules/graphql/',
  '^node_modules/@pothos/',
  '^node_modules/graphql-yoga/',
  '^node_modules/ioredis/',
  '^node_modules/pg/',
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A cycle makes load order matter (a binding read before its module finished evaluating) and welds ' +
        'the files in it into one unit that cannot be tested, split or understood alone. Type-only ' +
        'imports count: a type cycle is the same coupling, just erased at run time.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'module-imports-other-module-only-via-public',
      severity: 'error',
      comment:
        "A module may use another module only through that module's public.ts (ADR 0001): its internals " +
        "(and its module.ts, which is the composition root's) can then change without touching the caller.",
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/public\\.ts$'] },
    },
    {
      name: 'composition-imports-module-only-via-public-or-descriptor',
      severity: 'error',
      comment:
        'Code outside the modules (app.ts, graphql/, cli/, http/, demo/, entities.ts, migrations/, platform/, ' +
        'and files such as module-descriptor.ts directly in src/modules/, shared by all modules) ' +
        "sees a module only through its public.ts (its contract) or its module.ts (its wiring descriptor, " +
        'for the composition root): never a layer file, so a module can rearrange its insides freely.',
      from: { path: '^src/', pathNot: '^src/modules/[^/]+/' },
      to: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/[^/]+/(public|module)\\.ts$' },
    },
    {
      name: 'domain-and-application-free-of-frameworks',
      severity: 'error',
      comment:
        'domain/ and application/ hold the business rules and use cases; ORM, GraphQL, Redis and driver ' +
        'code belongs to infrastructure/ and graphql/ behind ports, so the rules run on in-memory fakes ' +
        'and survive a change of any of those libraries.',
      from: { path: '^src/modules/[^/]+/(domain|application)/' },
      to: { path: [...FRAMEWORK_PACKAGES, '^src/modules/[^/]+/(infrastructure|graphql)/', '^src/graphql/'] },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        'domain/ is the innermost layer: entities, values and rules that use cases build on. Depending ' +
        'on application/ would invert the layering and drag use-case ports into the model.',
      from: { path: '^src/modules/[^/]+/domain/' },
      to: { path: '^src/modules/[^/]+/application/' },
    },
    {
      name: 'module-graphql-via-public-only',
      severity: 'error',
      comment:
        "A module's graphql/ is an adapter like any other client: it reaches use cases through public.ts " +
        '(which the resolvers get from the context), never application/ or infrastructure/ directly, so ' +
        'the GraphQL layer cannot bypass what the module chose to expose.',
      from: { path: '^src/modules/[^/]+/graphql/' },
      to: { path: '^src/modules/[^/]+/(application|infrastructure)/' },
    },
    {
      name: 'src-not-to-test-or-bench',
      severity: 'error',
      comment:
        'Production code must not load test support, fakes (test/fakes/) or benchmark code: they would ' +
        'ship, and a test double could end up wired into the running service. Test files under src/ ' +
        'included: a test that needs test support lives under test/.',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'tests-reach-internals-only-from-their-module-folder',
      severity: 'error',
      comment:
        "Only a module's own tests (test/unit/modules/X/, test/integration/modules/X/) and the shared " +
        "fakes (test/fakes/) may reach into src/modules/X's layers; every other test and benchmark uses " +
        'public.ts or module.ts, like production callers, so refactoring a module breaks only its own tests.',
      from: { path: '^(test|bench)/', pathNot: ['^test/(unit|integration)/modules/', '^test/fakes/'] },
      to: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/[^/]+/(public|module)\\.ts$' },
    },
    {
      name: 'module-tests-reach-only-their-own-internals',
      severity: 'error',
      comment:
        "test/{unit,integration}/modules/X/ tests module X: another module's internals are reached through " +
        "its public.ts or module.ts (or a fake in test/fakes/), as in production.",
      from: { path: '^test/(?:unit|integration)/modules/([^/]+)/' },
      to: {
        path: '^src/modules/[^/]+/',
        pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/(public|module)\\.ts$'],
      },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve fails at run time (or hides a dependency the rules cannot see).',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment:
        'A source file that imports nothing and that nothing imports is dead code, or an entry point ' +
        'nobody wired up. (Test files are entry points of the test runner, scripts of npm.)',
      from: {
        orphan: true,
        pathNot: ['\\.test\\.ts$', '\\.d\\.ts$', '(^|/)\\.[^/]+\\.(js|cjs|mjs|ts|json)$'],
      },
      to: {},
    },
  ],
  options: {
    // dependency-cruiser 18 parses TypeScript with the `typescript` package only below version 7;
    // beside TypeScript 7 it would cruise nothing. @swc/core parses it instead, and its extractor
    // always reports type-only imports (as `type-only` dependencies), so they count for every rule
    // above without `tsPreCompilationDeps`, which would only select the (absent) tsc extractor and
    // print a "missing-tsc-transpiler" warning.
    parser: 'swc',
    tsPreCompilationDeps: false,
    // No tsConfig: tsconfig.json declares no path aliases, and imports name their files exactly.
    doNotFollow: { path: ['node_modules'] },
    // Benchmark output is data, not code.
    exclude: { path: ['^bench/results/'] },
    // `.ts` import extensions (Node type stripping) resolve as written; packages by their exports.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
  },
};
