// Summarises V8 CPU profiles (`.cpuprofile`: from `BENCH_CPU_PROFILE=dir npm run bench`, or any
// `node --cpu-prof`): where the busy time went by package (or project folder), by family of
// packages, and by our own function (code under src/), self and inclusive; idle samples are left
// out of the shares and reported apart.
//
//   node bench/lib/cpu-profile.ts <file.cpuprofile> [top=40]
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** A V8 CPU profile as `--cpu-prof` writes it and the inspector's `Profiler.stop` returns it (times in µs). */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  startTime: number;
  endTime: number;
}

/** A share of the busy samples: a name and its fraction (0–1). */
export type Share = readonly [name: string, share: number];

/** What a profile says, as shares of the samples in which the thread was busy (not idle). */
export interface ProfileSummary {
  readonly samples: number;
  readonly seconds: number;
  /** Fraction of all samples in which the thread was idle (waiting for I/O). */
  readonly idle: number;
  readonly byPackage: readonly Share[];
  /** Packages grouped by what they do (GraphQL server, execution, tracing, data layer, …). */
  readonly byFamily: readonly Share[];
  /** Our own code (under src/): self time per function. */
  readonly ownSelf: readonly Share[];
  /** Our own code: inclusive time per function (the function or anything it called was on the stack). */
  readonly ownInclusive: readonly Share[];
  /** Every function, self time. */
  readonly bySelf: readonly Share[];
}

const where = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'nm:');

/** The package (node_modules), project folder (src/a/b), node core module, or V8 bucket of a frame. */
function packageOf(functionName: string, url: string): string {
  const at = where(url);
  if (at.startsWith('nm:')) {
    const parts = at.slice(3).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (at.startsWith('node:')) return at.split('/').slice(0, at.startsWith('node:internal/') ? 2 : 1).join('/');
  if (at.includes('/src/')) return `src/${at.split('/src/')[1]!.split('/').slice(0, 2).join('/')}`;
  if (at.includes('/bench/')) return 'bench';
  if (!at) {
    if (functionName.startsWith('(')) return functionName;
    // Natives without a script: the socket writes and reads (to clients and to the database) by name.
    if (/^(writev|writeBuffer|write\w*String|readv?|onStreamRead|shutdown)$/.test(functionName)) return '(native socket I/O)';
    if (functionName === 'runMicrotasks') return '(microtask queue)';
    return '(V8 builtins and natives)';
  }
  return at;
}

const FAMILIES: [RegExp, string][] = [
  [/^(graphql-yoga|@graphql-yoga\/|@envelop\/(core|types|instrumentation|on-resolve)|@whatwg-node\/|@graphql-tools\/executor$|urlpattern-polyfill|@graphql-tools\/utils)/, 'GraphQL server (yoga, envelop, whatwg-node)'],
  [/^(graphql|graphql-jit|@envelop\/graphql-jit|fast-json-stringify|@pothos\/)/, 'GraphQL execution (graphql-js, graphql-jit, Pothos)'],
  [/^(@escape\.tech\/graphql-armor|@graphql-armor\/)/, 'security plugins (armor)'],
  [/^@opentelemetry\//, 'OpenTelemetry'],
  [/^(@mikro-orm\/|kysely|knex|pg|pg-protocol|pg-pool|pg-types|postgres-)/, 'data layer (MikroORM, kysely, pg)'],
  [/^(pino|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|@pinojs\/)/, 'logging (pino)'],
  [/^(prom-client|@envelop\/prometheus)/, 'metrics (prom-client)'],
  [/^(jose|dataloader)$/, 'tokens and loaders (jose, dataloader)'],
  [/^(node:internal\/(stream|net|tcp|socket|stream_base_commons|streams)|node:net|\(native socket I\/O\))/, 'node sockets and streams (incl. native writes)'],
  [/^node:internal\/(http|http2|url|webstreams|deps)/, 'node HTTP and web streams'],
  [/^node:/, 'node (other core modules)'],
  [/^\(garbage collector\)$/, 'GC'],
  [/^\(program\)$/, 'V8 (program)'],
  [/^\(V8 builtins and natives\)$/, 'V8 builtins and natives'],
  [/^\(microtask queue\)$/, 'V8 microtask queue'],
  [/^src\//, 'Ordergraph (src/)'],
];

const familyOf = (pkg: string) => FAMILIES.find(([pattern]) => pattern.test(pkg))?.[1] ?? 'other packages';

/** Shares of a profile's busy samples; `top` entries per list. */
export function analyseProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  let idle = 0;
  for (const [id, count] of hits) if (byId.get(id)?.callFrame.functionName === '(idle)') idle += count;
  const busy = Math.max(1, profile.samples.length - idle);

  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byPackage = new Map<string, number>();
  const byFamily = new Map<string, number>();
  const bySelf = new Map<string, number>();
  const ownSelf = new Map<string, number>();
  const ownInclusive = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);
  const label = (frame: ProfileNode['callFrame']) => `${frame.functionName || '(anonymous)'} ${where(frame.url).replace(/^.*\/src\//, 'src/')}:${frame.lineNumber + 1}`;
  const own = (url: string) => url.includes('/src/') && !url.includes('/node_modules/');
  for (const [id, count] of hits) {
    const node = byId.get(id)!;
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)') continue;
    const pkg = packageOf(functionName, url);
    add(byPackage, pkg, count);
    add(byFamily, familyOf(pkg), count);
    add(bySelf, label(node.callFrame), count);
    if (own(url)) add(ownSelf, label(node.callFrame), count);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (!own(frame.url)) continue;
      const key = label(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      add(ownInclusive, key, count);
    }
  }
  const list = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, n]) => [k, n / busy] as const);
  return {
    samples: profile.samples.length,
    seconds: (profile.endTime - profile.startTime) / 1e6,
    idle: idle / Math.max(1, profile.samples.length),
    byPackage: list(byPackage),
    byFamily: list(byFamily),
    ownSelf: list(ownSelf),
    ownInclusive: list(ownInclusive),
    bySelf: list(bySelf),
  };
}

/** The summary as plain text, one section per list. */
export function formatSummary(summary: ProfileSummary, title: string): string {
  const pct = (n: number) => `${(100 * n).toFixed(1).padStart(5)} %`;
  const section = (name: string, shares: readonly Share[]) => [name, ...shares.map(([k, n]) => `${pct(n)}  ${k}`), ''];
  return [
    `${title}: ${summary.samples} samples over ${summary.seconds.toFixed(1)} s, idle ${pct(summary.idle)}; shares of the busy samples`,
    '',
    ...section('by family:', summary.byFamily),
    ...section('by package:', summary.byPackage),
    ...section('our functions (self):', summary.ownSelf),
    ...section('our functions (inclusive):', summary.ownInclusive),
    ...section('all functions (self):', summary.bySelf),
  ].join('\n');
}

/** Reads a `.cpuprofile` file and summarises it as text. */
export async function summarise(file: string, top = 40): Promise<string> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  return formatSummary(analyseProfile(profile, top), file);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await summarise(process.argv[2]!, Number(process.argv[3] ?? 40)));
}
