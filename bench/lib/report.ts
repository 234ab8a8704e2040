// The report of `npm run bench` (bench/run.ts): the generated part of bench/RESULTS.md, its chart
// bench/results/requests.svg, and the run-to-run history (bench/results/history.json, one entry
// appended per run unless BENCH_HISTORY=false; its tables in RESULTS.md are regenerated from it).
import { readFile, writeFile } from 'node:fs/promises';
import { CONTESTANTS, type AblationVariant, type ContestantId } from './contestants.ts';
import type { ProfileSummary, Share } from './cpu-profile.ts';
import type { ShapeName } from './shapes.ts';

/** One measured run of one server on one shape (rates per second, latencies and CPU in ms unless named). */
export interface BenchRun {
  /** A contestant, or in the ablation an O variant id (`O` for O as shipped). */
  contestant: string;
  shape: ShapeName;
  round: number;
  /** Responses received (any status) and those that passed the checks. */
  responses: number;
  good: number;
  /** Non-2xx + bodies that failed the check + socket errors and timeouts. */
  errors: number;
  firstError: string | undefined;
  seconds: number;
  /** Good responses per second. */
  rps: number;
  latency: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** Good responses served from the response cache (Oc; 0 for every other contestant). */
  cacheHits?: number;
  /** Server process CPU (user + system, /proc) per good response, and in cores over the run. */
  cpuMsPerRequest: number;
  serverCores: number;
  /** All PostgreSQL processes' CPU per good response (shared with anything else on the server). */
  pgCpuMsPerRequest: number;
  /** wrk's CPU over the run: seconds, share of a core per wrk thread, and the verdict of the saturation rule. */
  generator: { cpuSeconds: number; share: number; saturated: boolean; usPerRequest: number };
}

/** Whether a run's figure counts: at least one answer, no failed request, the generator not saturated. */
export const runValid = (run: BenchRun): boolean => run.good > 0 && run.errors === 0 && !run.generator.saturated;

export interface ProfileRecord {
  contestant: 'O' | 'Obare' | 'Oc';
  shape: ShapeName;
  file: string;
  rps: number;
  summary: ProfileSummary;
}

export interface Report {
  date: string;
  /** Commits (short hash, `+dirty` with local changes) of the harness and of the O that ran. */
  commit: { harness: string; o: string };
  machine: { cpus: number; model: string; memoryGiB: number; kernel: string; loadAverage: number[]; node: string };
  wrk: string;
  database: { embedded: boolean; counts: Record<string, number>; poolMax: number; seededSeconds: number };
  settings: {
    oRoot: string | null;
    rounds: number;
    roundSeconds: number;
    warmupSeconds: number;
    threads: number;
    connections: number;
    variants: number;
    checkSamples: number;
    countRequests: number;
    checkBodies: boolean;
    generatorLimit: number;
    shapes: ShapeName[];
    contestants: ContestantId[];
    /** Contestants asked for but not run, and why. */
    missing: { contestant: ContestantId; why: string }[];
    oEnvOverrides: Record<string, string>;
  };
  checks: { shape: ShapeName; contestant: ContestantId; sample: number; equal: boolean; sameBytes: boolean; difference: string; bytes: number }[];
  statements: {
    shape: ShapeName;
    contestant: ContestantId;
    perRequest: number;
    min: number;
    max: number;
    afterResponse: number;
    transactionControl: number;
    relay: number;
    distinct: { text: string; perRequest: number }[];
  }[];
  runs: BenchRun[];
  /** O with one feature off at a time; variants run side by side in `batches` (database connections), each batch `rounds` rounds with O. */
  ablation: { rounds: number; batches: number; variants: AblationVariant[]; skipped: { id: string; why: string }[]; runs: BenchRun[] } | null;
  /** The response cache's invalidation cost (issue 15): ms from a change's commit to the first read on another instance showing it. */
  cacheInvalidation: CacheInvalidationRecord | null;
  profiles: ProfileRecord[];
  loadAverage: { start: number[]; end: number[] };
  durationSeconds: number;
  otlpExports: number;
}

/** One invalidation measurement: per kind of change, latencies in ms over `samples` changes. */
export interface CacheInvalidationRecord {
  /** How the instances were set up (two O cached processes, shared database and Redis). */
  readonly setup: string;
  readonly kinds: readonly { kind: string; samples: number; p50: number; p99: number; max: number; staleReadsAfterCommit: number }[];
}

/** Median, min and max of a list. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: readonly number[]): Spread {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, n: sorted.length };
}

/** Per-round throughput ratios a/b for one shape, over the rounds where both runs are valid. */
export function ratios(runs: readonly BenchRun[], shape: ShapeName, a: string, b: string): number[] {
  const out: number[] = [];
  const rounds = new Set(runs.map((r) => r.round));
  for (const round of rounds) {
    const x = runs.find((r) => r.shape === shape && r.contestant === a && r.round === round);
    const y = runs.find((r) => r.shape === shape && r.contestant === b && r.round === round);
    if (x && y && runValid(x) && runValid(y) && y.rps > 0) out.push(x.rps / y.rps);
  }
  return out;
}

/** Whether a contestant's figures for a shape count: equal to R on every sample, no failed request, no saturated generator. */
export function counts(report: Report, shape: ShapeName, who: string): { ok: boolean; why: string } {
  const failedChecks = report.checks.filter((c) => c.shape === shape && c.contestant === who && !c.equal).length;
  const runs = report.runs.filter((r) => r.shape === shape && r.contestant === who);
  const errors = runs.reduce((n, r) => n + r.errors, 0);
  const saturated = runs.filter((r) => r.generator.saturated).length;
  const empty = runs.filter((r) => r.good === 0).length;
  const why = [
    failedChecks && `${failedChecks} responses differ from R's`,
    errors && `${errors} failed requests`,
    saturated && `generator saturated in ${saturated} of ${runs.length} runs`,
    empty && `no answer within ${empty} of ${runs.length} runs`,
  ]
    .filter(Boolean)
    .join('; ');
  return { ok: !why, why };
}

/** A target of issue 11: `a`/`b` throughput on `shape` at least `atLeast` (or an ablation cost at most). */
interface Target {
  label: string;
  shape: ShapeName;
  a: string;
  b: string;
  atLeast: number;
  /** Read from the ablation runs instead of the main rounds. */
  ablation?: boolean;
  stretch?: boolean;
}

/** The targets of issue 11 (as shipped; median of per-round ratios). */
export const TARGETS: readonly Target[] = [
  { label: 'S1: O ≥ A+', shape: 'S1', a: 'O', b: 'A+', atLeast: 1 },
  { label: 'S1: O ≥ P', shape: 'S1', a: 'O', b: 'P', atLeast: 1 },
  { label: 'S1: O ≥ 0.35 R', shape: 'S1', a: 'O', b: 'R', atLeast: 0.35 },
  { label: 'S1: O bare ≥ 0.45 R', shape: 'S1', a: 'Obare', b: 'R', atLeast: 0.45 },
  { label: 'S1 (stretch): O ≥ M', shape: 'S1', a: 'O', b: 'M', atLeast: 1, stretch: true },
  { label: 'S2: O ≥ M', shape: 'S2', a: 'O', b: 'M', atLeast: 1 },
  { label: 'S2: O ≥ 0.7 P', shape: 'S2', a: 'O', b: 'P', atLeast: 0.7 },
  { label: 'S1: production features together cost ≤ 25 % of O bare (O/O bare ≥ 0.75)', shape: 'S1', a: 'O', b: 'Obare', atLeast: 0.75 },
  { label: 'S1: tracing alone costs ≤ 10 % (O / O without tracing ≥ 0.90, ablation)', shape: 'S1', a: 'O', b: 'tracing', atLeast: 0.9, ablation: true },
  { label: 'S1 (issue 15): a cache hit ≥ 10 × the uncached request (O cached / O ≥ 10)', shape: 'S1', a: 'Oc', b: 'O', atLeast: 10 },
];

/** The ratio columns of the report, in order. */
const RATIO_COLUMNS: [string, string][] = [
  ['O', 'R'],
  ['O', 'A+'],
  ['O', 'M'],
  ['O', 'P'],
  ['Obare', 'R'],
  ['O', 'Obare'],
  ['O', 'A'],
  // The response cache: O cached (hits after the warm-up) against the uncached O, same rounds (issue 15).
  ['Oc', 'O'],
  // Before/after: O against the same server from an earlier checkout (BENCH_BASE_ROOT), same rounds.
  ['O', 'Obase'],
];

const short = (who: string) => (who === 'Obare' ? 'O bare' : who === 'Obase' ? 'O before' : who === 'Oc' ? 'O cached' : who);
const f = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '—');
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : '—');
const pct = (x: number, digits = 0) => (Number.isFinite(x) ? `${(100 * x).toFixed(digits)} %` : '—');
const fs = (s: Spread, digits = 2) => (s.n ? `**${f(s.median, digits)}** (${f(s.min, digits)}–${f(s.max, digits)})` : '—');

const BEGIN = '<!-- BEGIN requests: generated by `npm run bench` (bench/run.ts); edits between these markers are overwritten -->';
const END = '<!-- END requests -->';
const HISTORY_BEGIN = '<!-- BEGIN history: generated from bench/results/history.json by `npm run bench`; edits between these markers are overwritten -->';
const HISTORY_END = '<!-- END history -->';

const SKELETON = `# Benchmarks

## Requests

${BEGIN}
${END}

## Run to run

${HISTORY_BEGIN}
${HISTORY_END}

## Subscriptions

_Filled in by the subscription benchmarks (\`bench/subscriptions*.ts\`)._
`;

/** One run's key figures, kept run to run in bench/results/history.json. */
export interface HistoryEntry {
  date: string;
  commit: string;
  /** `npm run bench`, or where figures measured otherwise came from. */
  source: string;
  settings: string;
  /** Median req/s per shape and contestant (valid runs only). */
  rps: Partial<Record<ShapeName, Record<string, number>>>;
  /** Median per-round ratio per shape, keyed `A/B`. */
  ratios: Partial<Record<ShapeName, Record<string, number>>>;
  /** Median server CPU ms per request per shape and contestant. */
  cpuMsPerRequest: Partial<Record<ShapeName, Record<string, number>>>;
  /** S1 ablation: cost of each feature as 1 − O / O-without-it (median of per-round ratios). */
  ablationCost: Record<string, number>;
  /** Profiles: the three largest families per `contestant shape`. */
  profileTop: Record<string, [string, number][]>;
  invalidRuns: number;
}

const HISTORY_FILE = new URL('../results/history.json', import.meta.url);

function historyEntry(report: Report): HistoryEntry {
  const rps: HistoryEntry['rps'] = {};
  const ratiosOut: HistoryEntry['ratios'] = {};
  const cpu: HistoryEntry['cpuMsPerRequest'] = {};
  for (const shape of report.settings.shapes) {
    rps[shape] = {};
    cpu[shape] = {};
    ratiosOut[shape] = {};
    for (const who of report.settings.contestants) {
      const runs = report.runs.filter((r) => r.shape === shape && r.contestant === who && runValid(r));
      if (!runs.length) continue;
      rps[shape][who] = Math.round(spread(runs.map((r) => r.rps)).median);
      cpu[shape][who] = Number(spread(runs.map((r) => r.cpuMsPerRequest)).median.toFixed(3));
    }
    for (const [a, b] of RATIO_COLUMNS) {
      const s = spread(ratios(report.runs, shape, a, b));
      if (s.n) ratiosOut[shape][`${a}/${b}`] = Number(s.median.toFixed(3));
    }
  }
  const ablationCost: Record<string, number> = {};
  for (const variant of report.ablation?.variants ?? []) {
    const s = spread(ratios(report.ablation!.runs, 'S1', 'O', variant.id));
    if (s.n) ablationCost[variant.id] = Number((1 - s.median).toFixed(3));
  }
  const profileTop: HistoryEntry['profileTop'] = {};
  for (const p of report.profiles) profileTop[`${short(p.contestant)} ${p.shape}`] = p.summary.byFamily.slice(0, 3).map(([k, v]) => [k, Number(v.toFixed(3))]);
  return {
    date: report.date,
    commit: report.commit.o,
    source: 'npm run bench',
    settings: `${report.settings.rounds} rounds × ${report.settings.roundSeconds} s, wrk ${report.settings.threads} threads × ${report.settings.connections} connections, pool ${report.database.poolMax}`,
    rps,
    ratios: ratiosOut,
    cpuMsPerRequest: cpu,
    ablationCost,
    profileTop,
    invalidRuns: report.runs.filter((r) => !runValid(r)).length + (report.ablation?.runs.filter((r) => !runValid(r)).length ?? 0),
  };
}

async function readHistory(): Promise<HistoryEntry[]> {
  try {
    return JSON.parse(await readFile(HISTORY_FILE, 'utf8')) as HistoryEntry[];
  } catch {
    return [];
  }
}

/**
 * Writes bench/results/requests.svg, the generated part of bench/RESULTS.md and (when
 * `appendHistory`) a new entry of bench/results/history.json; returns a console summary.
 */
export async function writeReport(report: Report, options: { rawFile: string; appendHistory: boolean }): Promise<string> {
  const history = await readHistory();
  if (options.appendHistory) {
    history.push(historyEntry(report));
    await writeFile(HISTORY_FILE, `${JSON.stringify(history, null, 2)}\n`);
  }
  const resultsFile = new URL('../RESULTS.md', import.meta.url);
  let current: string;
  try {
    current = await readFile(resultsFile, 'utf8');
  } catch {
    current = SKELETON;
  }
  if (!current.includes(BEGIN) || !current.includes(END)) {
    current = current.includes('## Requests') ? current.replace('## Requests', `## Requests\n\n${BEGIN}\n${END}`) : `${current.trimEnd()}\n\n## Requests\n\n${BEGIN}\n${END}\n`;
  }
  if (!current.includes(HISTORY_BEGIN) || !current.includes(HISTORY_END)) {
    const at = current.indexOf(END) + END.length;
    current = `${current.slice(0, at)}\n\n## Run to run\n\n${HISTORY_BEGIN}\n${HISTORY_END}${current.slice(at)}`;
  }
  const replace = (text: string, begin: string, end: string, block: string) => text.slice(0, text.indexOf(begin)) + `${begin}\n${block}\n${end}` + text.slice(text.indexOf(end) + end.length);
  current = replace(current, BEGIN, END, renderMarkdown(report, options.rawFile));
  current = replace(current, HISTORY_BEGIN, HISTORY_END, renderHistory(history));
  await writeFile(resultsFile, current);
  await writeFile(new URL('../results/requests.svg', import.meta.url), renderSvg(report));
  return [...targetLines(report).map((t) => `${t.label}: ${t.measured} → ${t.verdict}`), ...generatorLines(report)].join('\n');
}

function targetLines(report: Report): { label: string; measured: string; verdict: string }[] {
  return TARGETS.map((t) => {
    const runs = t.ablation ? (report.ablation?.runs ?? []) : report.runs;
    const s = spread(ratios(runs, t.shape, t.a, t.b));
    if (!s.n) {
      const ran = (who: string) => (t.ablation ? !!report.ablation?.variants.some((v) => v.id === who) || who === 'O' : report.settings.contestants.includes(who as ContestantId));
      const why = !report.settings.shapes.includes(t.shape) ? 'shape not run' : t.ablation && !report.ablation ? 'ablation not run (BENCH_ABLATION=true)' : !ran(t.a) || !ran(t.b) ? 'contestant not run' : 'no round where both runs are valid';
      return { label: t.label, measured: '—', verdict: `not measured (${why})` };
    }
    const invalid = t.ablation ? [] : [counts(report, t.shape, t.a), counts(report, t.shape, t.b)].filter((c) => !c.ok).map((c) => c.why);
    const measured = `${f(s.median)} (${f(s.min)}–${f(s.max)}) over ${s.n} rounds`;
    const verdict = invalid.length ? `does not count (${invalid.join('; ')})` : s.median >= t.atLeast ? 'met' : t.stretch ? 'missed (stretch)' : '**missed**';
    return { label: t.label, measured, verdict };
  });
}

/** The generator check in words: loud when any run was saturated; how far R (the fastest) was from it. */
function generatorLines(report: Report): string[] {
  const all = [...report.runs, ...(report.ablation?.runs ?? [])];
  const saturated = all.filter((r) => r.generator.saturated);
  const lines: string[] = [];
  if (saturated.length) {
    lines.push(`**⚠ INVALID: the load generator was saturated in ${saturated.length} of ${all.length} runs** (${saturated.map((r) => `${short(r.contestant)} ${r.shape} round ${r.round}: ${pct(r.generator.share)} of a core per thread`).join('; ')}); those runs do not count.`);
  }
  const rRuns = report.runs.filter((r) => r.contestant === 'R');
  if (rRuns.length) {
    const worst = rRuns.reduce((a, b) => (b.generator.share > a.generator.share ? b : a));
    const verdict = worst.generator.saturated ? '**generator-bound**' : 'not generator-bound';
    lines.push(`R, the fastest contestant: wrk used at most ${pct(worst.generator.share)} of a core per thread (${worst.shape}, round ${worst.round}, ${int(worst.rps)} req/s; limit ${pct(report.settings.generatorLimit)}): ${verdict}.`);
  }
  return lines;
}

/** The response cache section (issue 15): hit ratio, hit throughput against the uncached O, SQL on a hit, invalidation cost. */
function cacheLines(report: Report): string[] {
  const cached = report.runs.filter((r) => r.contestant === 'Oc');
  if (!cached.length && !report.cacheInvalidation) return [];
  const out = [
    '### Response cache (issue 15)',
    '',
    'O cached is O with the response cache on (its default; entries kept for the whole run), which answers every request variant once before each round: the orders S3 places (and the statement counts) between rounds make it forget every admin orders page, as a committed order must. O runs with `RESPONSE_CACHE=false`. Both in the same interleaved rounds, with the same request variants (S1: one of the pre-generated orders, read by its owner; S2: one of the pre-generated admin pages). Hit ratio: responses saying `extensions.responseCache.hit`, of all good responses of O cached in the measured runs. SQL on a hit: counted at the wire on a separate O cached instance, for requests it had answered once before.',
    '',
    '| Shape | O cached req/s | O req/s | O cached / O (per round) | hit ratio | SQL statements on a hit | server CPU ms / request, O cached vs O |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const shape of report.settings.shapes.filter((s) => s !== 'S3')) {
    const runs = cached.filter((r) => r.shape === shape && runValid(r));
    const plain = report.runs.filter((r) => r.shape === shape && r.contestant === 'O' && runValid(r));
    if (!runs.length) continue;
    const good = runs.reduce((n, r) => n + r.good, 0);
    const hits = runs.reduce((n, r) => n + (r.cacheHits ?? 0), 0);
    const statements = report.statements.find((x) => x.shape === shape && x.contestant === 'Oc');
    out.push(
      `| ${shape} | ${int(spread(runs.map((r) => r.rps)).median)} | ${int(spread(plain.map((r) => r.rps)).median)} | ${fs(spread(ratios(report.runs, shape, 'Oc', 'O')))} | ${pct(hits / Math.max(1, good), 1)} | ${statements ? `${f(statements.perRequest, 1)} (max ${statements.max})` : '—'} | ${f(spread(runs.map((r) => r.cpuMsPerRequest)).median, 3)} vs ${f(spread(plain.map((r) => r.cpuMsPerRequest)).median, 3)} |`,
    );
  }
  const inv = report.cacheInvalidation;
  if (inv) {
    out.push('', `Invalidation cost: ${inv.setup}`, '', '| Change | samples | p50 ms | p99 ms | max ms | reads on the other instance still stale after the writer\'s response |', '|---|---|---|---|---|---|');
    for (const k of inv.kinds) out.push(`| ${k.kind} | ${k.samples} | ${f(k.p50, 1)} | ${f(k.p99, 1)} | ${f(k.max, 1)} | ${k.staleReadsAfterCommit} |`);
  }
  out.push('');
  return out;
}

function renderMarkdown(report: Report, rawFile: string): string {
  const { settings, machine, database } = report;
  const out: string[] = [];
  const contestants = settings.contestants;
  const runsOf = (shape: ShapeName, who: string) => report.runs.filter((r) => r.shape === shape && r.contestant === who);
  out.push(
    `_Latest run: ${report.date}, ${f(report.durationSeconds / 60, 1)} min, O at \`${report.commit.o}\`${settings.oRoot ? ` (from \`${settings.oRoot}\`)` : ''}, harness at \`${report.commit.harness}\`; raw figures: \`${rawFile.slice(rawFile.indexOf('bench/'))}\`._`,
    '',
  );
  out.push(
    `**Command**: \`npm run bench\` (knobs in the header of \`bench/run.ts\`). This run: ${settings.rounds} interleaved rounds; in each, every shape is run by every contestant in turn (order rotated per round), ` +
      `${settings.warmupSeconds} s warm-up + ${settings.roundSeconds} s measured, load by **${report.wrk}** with ${settings.threads} threads × ${settings.connections} connections; ` +
      `${settings.variants} pre-generated request variants per shape, one picked at random per request; pool of ${database.poolMax} connections for every contestant` +
      (Object.keys(settings.oEnvOverrides).length ? `; O overrides ${JSON.stringify(settings.oEnvOverrides)}` : '') +
      '.',
    '',
  );
  out.push(
    `**Machine**: ${machine.cpus} × ${machine.model}, ${f(machine.memoryGiB, 1)} GiB, Linux ${machine.kernel}, Node ${machine.node}; load average ${report.loadAverage.start.join(' / ')} at the start, ${report.loadAverage.end.join(' / ')} at the end. ` +
      'wrk, the servers and PostgreSQL share the machine.',
    '',
  );
  out.push(
    `**Database**: ${database.embedded ? '**embedded PGlite (no PostgreSQL server was reachable): figures not meaningful**' : 'PostgreSQL (`ordergraph_bench`, migrated with the project migrations and seeded by `bench/seed.ts`)'}: ` +
      `${Object.entries(database.counts).map(([k, v]) => `${v.toLocaleString('en')} ${k}`).join(', ')}${database.seededSeconds ? ` (seeded in ${f(database.seededSeconds, 1)} s)` : ' (reused)'}.`,
    '',
  );
  if (settings.missing.length) out.push(`**Not run**: ${settings.missing.map((m) => `${m.contestant} (${m.why})`).join('; ')}.`, '');
  const generator = generatorLines(report);
  if (generator.length) out.push(...generator.map((line) => `${line}\n`));

  // Throughput, as issue 11 tabulates it.
  out.push('### Throughput (req/s, median over rounds)', '', `| | ${contestants.map((who) => CONTESTANTS[who].label).join(' | ')} |`, `|---|${contestants.map(() => '---:|').join('')}`);
  for (const shape of settings.shapes) {
    const cells = contestants.map((who) => {
      if (!CONTESTANTS[who].shapes.includes(shape)) return '–';
      const runs = runsOf(shape, who);
      if (!runs.length) return 'not run';
      const valid = runs.filter(runValid);
      const s = spread(valid.map((r) => r.rps));
      const c = counts(report, shape, who);
      return `${valid.length ? int(s.median) : '—'}${c.ok ? '' : ' ⚠'}`;
    });
    out.push(`| ${shape} | ${cells.join(' | ')} |`);
  }
  out.push('', '⚠: does not count (see "Per contestant"). –: the contestant does not implement the shape (issue 11 asks S3 of R and O only).', '');

  out.push('### Ratios (median of the per-round ratios, min–max in brackets)', '', `| Shape | ${RATIO_COLUMNS.map(([a, b]) => `${short(a)}/${short(b)}`).join(' | ')} |`, `|---|${RATIO_COLUMNS.map(() => '---|').join('')}`);
  for (const shape of settings.shapes) out.push(`| ${shape} | ${RATIO_COLUMNS.map(([a, b]) => fs(spread(ratios(report.runs, shape, a, b)))).join(' | ')} |`);
  out.push('', 'A round counts for a ratio only when both runs are valid (no failed request, generator not saturated).', '');

  out.push('### Targets (issue 11)', '', '| Target | Measured (median of per-round ratios, min–max) | Verdict |', '|---|---|---|');
  for (const t of targetLines(report)) out.push(`| ${t.label} | ${t.measured} | ${t.verdict} |`);
  const s3 = spread(ratios(report.runs, 'S3', 'O', 'R'));
  if (s3.n) out.push(`| S3 (no target; after the data-layer issue): O/R | ${f(s3.median)} (${f(s3.min)}–${f(s3.max)}) over ${s3.n} rounds | reported |`);
  out.push('', '![Throughput per contestant relative to R](results/requests.svg)', '');
  out.push(...cacheLines(report));

  out.push(
    '### Per contestant (medians over rounds; min–max in brackets; absolute values indicative only)',
    '',
    '| Shape | Contestant | req/s | p50 ms | p99 ms | server CPU ms / request | server cores | PostgreSQL CPU ms / request | generator CPU, share of a core per wrk thread | generator µs / request | failed requests | counts? |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const shape of settings.shapes) {
    for (const who of contestants) {
      const runs = runsOf(shape, who);
      if (!runs.length) continue;
      const m = (pick: (r: BenchRun) => number, digits = 2) => {
        const s = spread(runs.map(pick));
        return `${f(s.median, digits)} (${f(s.min, digits)}–${f(s.max, digits)})`;
      };
      const valid = counts(report, shape, who);
      const sat = runs.filter((r) => r.generator.saturated).length;
      out.push(
        `| ${shape} | ${short(who)} | ${m((r) => r.rps, 0)} | ${m((r) => r.latency.p50, 1)} | ${m((r) => r.latency.p99, 1)} | ${m((r) => r.cpuMsPerRequest, 3)} | ${m((r) => r.serverCores, 2)} | ${m((r) => r.pgCpuMsPerRequest, 3)} | ${m((r) => 100 * r.generator.share, 0)} %${sat ? ` **⚠ saturated ${sat}/${runs.length}**` : ''} | ${m((r) => r.generator.usPerRequest, 1)} | ${runs.reduce((n, r) => n + r.errors, 0)} | ${valid.ok ? 'yes' : `**no**: ${valid.why}`} |`,
      );
    }
  }
  out.push(
    '',
    'Server CPU: the contestant process from `/proc/<pid>/stat` (user + system) over the measured seconds, per good response; for O it includes its background work (outbox relay, span export, logging). Server cores: the same CPU over wall time. ' +
      'PostgreSQL CPU: all `postgres` processes of the machine over the same seconds. Generator: wrk\'s own CPU time (all threads) over the run, read from /proc when it exits. ' +
      `**Saturation rule**: a run is invalid when wrk's CPU ≥ ${pct(settings.generatorLimit)} of a core per thread (cpu s ≥ ${settings.generatorLimit} × ${settings.threads} threads × run s); such a run, and every ratio of its round, does not count. ` +
      `Every response's status is checked by wrk${settings.checkBodies ? ", and its body for the shape's success marker and the absence of `\"errors\"`" : ' (bodies are not checked during the load: BENCH_CHECK_BODIES=false)'}; any failure makes the contestant's figures not count.`,
    '',
  );

  if (report.ablation) {
    const { variants, runs, rounds, batches, skipped } = report.ablation;
    out.push(
      '### Ablation: one production feature off at a time (S1)',
      '',
      `O as shipped and O with one feature off, each its own process with the same settings: ${rounds} interleaved rounds of S1${batches > 1 ? ` in each of ${batches} batches of variants (as many O processes side by side as PostgreSQL's free connections allow), O as shipped in every round` : ''}. Cost of a feature = 1 − O / O-without-it (median of per-round ratios); the gain = O-without-it / O − 1.`,
      '',
      '| Feature off | Switch | req/s | cost of the feature | gain when off | server CPU ms / request | Δ CPU ms / request vs O |',
      '|---|---|---|---|---|---|---|',
    );
    const base = runs.filter((r) => r.contestant === 'O' && runValid(r));
    const baseCpu = spread(base.map((r) => r.cpuMsPerRequest)).median;
    out.push(`| (none: O as shipped) | | ${int(spread(base.map((r) => r.rps)).median)} | | | ${f(baseCpu, 3)} | |`);
    for (const variant of variants) {
      const own = runs.filter((r) => r.contestant === variant.id && runValid(r));
      const s = spread(ratios(runs, 'S1', 'O', variant.id));
      const gain = spread(ratios(runs, 'S1', variant.id, 'O'));
      const cpu = spread(own.map((r) => r.cpuMsPerRequest)).median;
      out.push(
        `| ${variant.feature} | \`${Object.entries(variant.env).map(([k, v]) => `${k}=${v}`).join(' ')}\` | ${int(spread(own.map((r) => r.rps)).median)} | ${s.n ? `**${pct(1 - s.median, 1)}** (${pct(1 - s.max, 1)}–${pct(1 - s.min, 1)})` : '—'} | ${gain.n ? pct(gain.median - 1, 1) : '—'} | ${f(cpu, 3)} | ${f(cpu - baseCpu, 3)} |`,
      );
    }
    if (skipped.length) out.push('', `Not run: ${skipped.map((v) => `${v.id} (${v.why})`).join('; ')}.`);
    const bad = runs.filter((r) => !runValid(r));
    if (bad.length) out.push('', `**⚠ ${bad.length} ablation runs do not count** (${bad.map((r) => `${r.contestant} round ${r.round}: ${r.generator.saturated ? 'generator saturated' : `${r.errors} failed`}`).join('; ')}).`);
    out.push('');
  }

  if (report.profiles.length) {
    out.push(
      '### Where O\'s time goes (CPU profiles)',
      '',
      'V8 sampling profiles (1 ms) of fresh O processes, taken through the inspector over exactly the measured seconds of one wrk run each (not start-up or warm-up); shares of the busy samples (idle excluded). `.cpuprofile` files open in Chrome DevTools or speedscope; `node bench/lib/cpu-profile.ts <file>` prints the full summary.',
      '',
    );
    const list = (shares: readonly Share[], n: number) => shares.slice(0, n).map(([k, v]) => `${pct(v, 1)} ${k.replaceAll('|', '\\|')}`).join('<br>');
    out.push('| Profile | req/s while profiled | by family | by package | our functions, inclusive | our functions, self |', '|---|---|---|---|---|---|');
    for (const p of report.profiles) {
      out.push(`| ${short(p.contestant)} ${p.shape} (\`${p.file.split('/').at(-1)}\`, idle ${pct(p.summary.idle)}) | ${int(p.rps)} | ${list(p.summary.byFamily, 8)} | ${list(p.summary.byPackage, 12)} | ${list(p.summary.ownInclusive, 12)} | ${list(p.summary.ownSelf, 8)} |`);
    }
    out.push('');
  }

  out.push('### SQL statements per request (counted at the database wire)', '', `| Shape | ${contestants.map(short).join(' | ')} |`, `|---|${contestants.map(() => '---|').join('')}`);
  for (const shape of settings.shapes) {
    const cells = contestants.map((who) => {
      const s = report.statements.find((x) => x.shape === shape && x.contestant === who);
      if (!s) return CONTESTANTS[who].shapes.includes(shape) ? '—' : '–';
      return `${f(s.perRequest, 1)}${s.min !== s.max ? ` (${s.min}–${s.max})` : ''}${s.transactionControl ? `, of which ${f(s.transactionControl, 1)} BEGIN/COMMIT` : ''}${s.afterResponse ? `; +${f(s.afterResponse, 1)} after the response` : ''}${s.relay ? ` (outbox relay: ${f(s.relay, 1)})` : ''}`;
    });
    out.push(`| ${shape} | ${cells.join(' | ')} |`);
  }
  out.push(
    '',
    `Counted by a proxy in front of PostgreSQL that reads the wire protocol (every simple Query and every extended-protocol Execute), on separate instances of the contestants, one request at a time (${settings.countRequests} per shape after 3 warm-up requests); statements that arrive after the response until the database has been quiet for 250 ms are shown apart. O's statements:`,
    '',
  );
  for (const shape of settings.shapes) {
    const s = report.statements.find((x) => x.shape === shape && x.contestant === 'O');
    if (!s) continue;
    out.push(`<details><summary>O, ${shape}: ${f(s.perRequest, 1)} statements</summary>`, '', ...s.distinct.map((d) => `- ${f(d.perRequest, 1)} × \`${d.text.replaceAll('`', "'")}\``), '', '</details>', '');
  }

  out.push('### Response checks', '');
  for (const shape of settings.shapes) {
    const parts = contestants
      .filter((who) => who !== 'R' && CONTESTANTS[who].shapes.includes(shape))
      .map((who) => {
        const checks = report.checks.filter((c) => c.shape === shape && c.contestant === who);
        const equal = checks.filter((c) => c.equal).length;
        const bytes = checks.filter((c) => c.sameBytes).length;
        const diff = checks.find((c) => !c.equal)?.difference;
        return `${short(who)}: ${equal}/${checks.length} deep-equal to R${bytes ? `, ${bytes} byte-identical` : ''}${diff ? ` (first difference: \`${diff.replaceAll('`', "'")}\`)` : ''}`;
      });
    out.push(`- ${shape}: ${parts.join('; ')}.`);
  }
  out.push(
    '',
    'Before any figure is taken, every contestant answers the same sampled requests as R; compared as parsed JSON after removing only the fields that legitimately differ: none for S1 and S2 (the same rows are read); for S3 `order.id`, `order.number` and `order.createdAt` (each contestant places its own order: same customer and lines, its own idempotency key). Byte-identical: the same JSON text after that removal.',
    '',
  );

  out.push(
    '### Same work for every contestant',
    '',
    '- **Tokens**: every contestant caches verified bearer tokens the same way: O in its JoseTokenService, the others through `bench/lib/jwt.ts` (a Map keyed by the whole token, valid until its `exp` + 5 s, at most 10,000 entries, oldest dropped first). With ' +
      `${settings.variants} variants per shape every token is verified once and then served from the cache.`,
    `- **Pool**: ${database.poolMax} connections for every contestant (BENCH_POOL_MAX).`,
    '- **Fields**: the same documents (bench/lib/shapes.ts); S2 selects `payment { status }` (the order\'s one payment, by order id) and pages after a cursor drawn at random per request.',
    `- **O bare**: ${CONTESTANTS.Obare.description}. The access log's only switch is the log level.`,
    '',
  );
  return out.join('\n');
}

function renderHistory(history: readonly HistoryEntry[]): string {
  if (!history.length) return '_No runs recorded yet._';
  const cell = (e: HistoryEntry, shape: ShapeName, key: string) => (e.ratios[shape]?.[key] === undefined ? '—' : f(e.ratios[shape]![key]!));
  const rps = (e: HistoryEntry, shape: ShapeName, who: string) => (e.rps[shape]?.[who] === undefined ? '—' : int(e.rps[shape]![who]!));
  const out: string[] = [
    'One row per run (bench/results/history.json); ratios are medians of per-round ratios.',
    '',
    '| Date | O commit | Source | S1 O req/s | S1 O/R | S1 O/A+ | S1 O/M | S1 O/P | S1 O bare/R | S1 O/O bare | S2 O req/s | S2 O/M | S2 O/P | S2 O/R | S3 O/R | invalid runs |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const e of history) {
    out.push(
      `| ${e.date.slice(0, 16).replace('T', ' ')} | \`${e.commit}\` | ${e.source} | ${rps(e, 'S1', 'O')} | ${cell(e, 'S1', 'O/R')} | ${cell(e, 'S1', 'O/A+')} | ${cell(e, 'S1', 'O/M')} | ${cell(e, 'S1', 'O/P')} | ${cell(e, 'S1', 'Obare/R')} | ${cell(e, 'S1', 'O/Obare')} | ${rps(e, 'S2', 'O')} | ${cell(e, 'S2', 'O/M')} | ${cell(e, 'S2', 'O/P')} | ${cell(e, 'S2', 'O/R')} | ${cell(e, 'S3', 'O/R')} | ${e.invalidRuns} |`,
    );
  }
  const features = [...new Set(history.flatMap((e) => Object.keys(e.ablationCost)))];
  out.push(
    '',
    'Decomposition run to run: server CPU ms per S1 request, the S1 cost of each production feature (1 − O / O-without-it, ablation) and the largest families of the profiles.',
    '',
    `| Date | O commit | S1 CPU ms/req O | O bare | R | A+ | M | P | ${features.map((k) => `cost: ${k}`).join(' | ')}${features.length ? ' | ' : ''}profiles (top families) |`,
    `|---|---|---:|---:|---:|---:|---:|---:|${features.map(() => '---:|').join('')}---|`,
  );
  for (const e of history) {
    const cpu = (who: string) => (e.cpuMsPerRequest.S1?.[who] === undefined ? '—' : f(e.cpuMsPerRequest.S1[who]!, 3));
    const profiles = Object.entries(e.profileTop).map(([k, top]) => `${k}: ${top.map(([family, share]) => `${family} ${pct(share)}`).join(', ')}`).join('<br>');
    out.push(
      `| ${e.date.slice(0, 16).replace('T', ' ')} | \`${e.commit}\` | ${cpu('O')} | ${cpu('Obare')} | ${cpu('R')} | ${cpu('A+')} | ${cpu('M')} | ${cpu('P')} | ${features.map((k) => (e.ablationCost[k] === undefined ? '—' : pct(e.ablationCost[k]!, 1))).join(' | ')}${features.length ? ' | ' : ''}${profiles || '—'} |`,
    );
  }
  return out.join('\n');
}

/** One panel per shape: each contestant's throughput relative to R (median of per-round ratios, whiskers min–max), labelled with its req/s. */
function renderSvg(report: Report): string {
  const shapes = report.settings.shapes;
  const contestants = report.settings.contestants.filter((who) => who !== 'R');
  const width = 900;
  const rowHeight = 22;
  const panelGap = 36;
  const x0 = 190;
  const w = 560;
  const scale = (v: number) => (Math.min(Math.max(v, 0), 1.2) / 1.2) * w;
  const panelHeight = (shape: ShapeName) => contestants.filter((who) => CONTESTANTS[who].shapes.includes(shape)).length * rowHeight + 30;
  const height = 60 + shapes.reduce((sum, shape) => sum + panelHeight(shape) + panelGap, 0);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">Throughput relative to R (hand-written SQL), median of ${report.settings.rounds} interleaved rounds, whiskers min–max — ${report.date.slice(0, 10)}</text>`,
  ];
  let y = 50;
  for (const shape of shapes) {
    const rows = contestants.filter((who) => CONTESTANTS[who].shapes.includes(shape));
    const rRps = spread(report.runs.filter((r) => r.shape === shape && r.contestant === 'R' && runValid(r)).map((r) => r.rps)).median;
    parts.push(`<text x="10" y="${y + 4}" font-weight="bold">${shape}${Number.isFinite(rRps) ? ` (R: ${int(rRps)} req/s)` : ''}</text>`);
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      const x = x0 + scale(tick);
      parts.push(`<line x1="${x}" y1="${y + 8}" x2="${x}" y2="${y + 12 + rows.length * rowHeight}" stroke="#ddd"/>`, `<text x="${x}" y="${y + 24 + rows.length * rowHeight}" text-anchor="middle" fill="#555">${tick}</text>`);
    }
    rows.forEach((who, i) => {
      const top = y + 12 + i * rowHeight;
      const s = spread(ratios(report.runs, shape, who, 'R'));
      const valid = counts(report, shape, who).ok;
      const own = spread(report.runs.filter((r) => r.shape === shape && r.contestant === who && runValid(r)).map((r) => r.rps)).median;
      parts.push(`<text x="${x0 - 8}" y="${top + 14}" text-anchor="end">${CONTESTANTS[who].label}</text>`);
      if (!s.n) {
        parts.push(`<text x="${x0 + 4}" y="${top + 14}" fill="#999">no valid round</text>`);
        return;
      }
      const fill = !valid ? '#bbb' : who === 'O' ? '#d9822b' : who === 'Obare' ? '#f0b27a' : '#4c8bd6';
      parts.push(`<rect x="${x0}" y="${top + 3}" width="${scale(s.median).toFixed(1)}" height="${rowHeight - 6}" fill="${fill}"/>`);
      const [a, b] = [x0 + scale(s.min), x0 + scale(s.max)];
      const cy = top + rowHeight / 2;
      parts.push(`<line x1="${a.toFixed(1)}" y1="${cy}" x2="${b.toFixed(1)}" y2="${cy}" stroke="#222"/>`);
      parts.push(`<text x="${(x0 + scale(Math.max(s.median, s.max)) + 6).toFixed(1)}" y="${top + 14}" fill="#222">${f(s.median)} · ${int(own)} req/s${valid ? '' : ' (does not count)'}</text>`);
    });
    y += panelHeight(shape) + panelGap;
  }
  parts.push(`<text x="${width / 2}" y="${height - 10}" text-anchor="middle" fill="#555">S1 order(id) · S2 orders(first: 50, random after) with payment, customer, lines → product · S3 placeOrder, 3 lines. Orange: O; light orange: O bare; grey: does not count.</text>`, '</svg>');
  return `${parts.join('\n')}\n`;
}
