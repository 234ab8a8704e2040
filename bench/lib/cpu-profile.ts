// Summarises V8 CPU profiles (`node --cpu-prof`, e.g. from `BENCH_CPU_PROFILE=dir npm run bench`):
// self time by function and by package, so the hot spots of a contestant show without a viewer.
//
//   node bench/lib/cpu-profile.ts <file.cpuprofile> [top=40]
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Self-time shares of a profile, by function and by package (or project folder). */
export async function summarise(file: string, top = 40): Promise<string> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; startTime: number; endTime: number };
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    if (!count) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'nm:');
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
    const pkg = where.startsWith('nm:')
      ? where.slice(3).split('/').slice(0, where.slice(3).startsWith('@') ? 2 : 1).join('/')
      : where.includes('/src/') ? `src/${where.split('/src/')[1]!.split('/').slice(0, 2).join('/')}` : where || functionName;
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + count);
  }
  // Inclusive time: every sample counts once for each distinct function on its stack.
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const inclusive = new Map<string, number>();
  for (const [id, count] of hits) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      const key = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'nm:')}:${frame.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + count);
    }
  }
  const pct = (n: number) => `${((100 * n) / total).toFixed(1).padStart(5)} %`;
  const list = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, n]) => `${pct(n)}  ${k}`);
  return [`${file}: ${total} samples over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s`, '', 'by package:', ...list(byPackage), '', 'by function (self):', ...list(byFunction), '', 'by function (inclusive):', ...list(inclusive)].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await summarise(process.argv[2]!, Number(process.argv[3] ?? 40)));
}
