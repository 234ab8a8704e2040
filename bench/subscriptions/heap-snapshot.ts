// Heap snapshots of a server process through its inspector, and a comparison of two of them by
// constructor: what N more idle subscribed sockets cost, per socket, and who holds it (issue 14).
// bench/subscriptions.ts takes one before and one after the sockets connect when
// BENCH_SUBS_HEAP_SNAPSHOTS=true and prints the comparison; by hand:
//
//   node bench/subscriptions/heap-snapshot.ts <before.heapsnapshot> <after.heapsnapshot> <sockets> [top=40]
//
// Self sizes only (what DevTools' "Comparison" view shows): a retained size would need the
// dominator tree, and per-socket objects are mostly held by one socket anyway.
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

/**
 * Writes a heap snapshot of the process whose inspector listens at `inspectorUrl` to `file`
 * (after V8's own full GC, which a snapshot starts with).
 * @throws Error when the inspector cannot be reached or refuses the command.
 */
export async function writeHeapSnapshot(inspectorUrl: string, file: string): Promise<void> {
  const socket = new WebSocket(inspectorUrl, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const out = createWriteStream(file);
  // The snapshot's closure locations name scripts by id: the Debugger domain tells their URLs.
  const scripts: Record<string, string> = {};
  try {
    await new Promise<void>((resolve, reject) => {
      socket.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString()) as { id?: number; method?: string; params?: { chunk: string; scriptId: string; url: string }; error?: { message: string } };
        if (message.method === 'HeapProfiler.addHeapSnapshotChunk') out.write(message.params!.chunk);
        else if (message.method === 'Debugger.scriptParsed') scripts[message.params!.scriptId] = message.params!.url;
        else if (message.error) reject(new Error(message.error.message));
        else if (message.id === 1) socket.send(JSON.stringify({ id: 2, method: 'Debugger.disable' }));
        else if (message.id === 2) socket.send(JSON.stringify({ id: 3, method: 'HeapProfiler.takeHeapSnapshot', params: { reportProgress: false, captureNumericValue: false } }));
        else if (message.id === 3) resolve();
      });
      socket.send(JSON.stringify({ id: 1, method: 'Debugger.enable' }));
    });
  } finally {
    socket.close();
    await new Promise<void>((resolve) => out.end(resolve));
  }
  await writeFile(`${file}.scripts.json`, JSON.stringify(scripts));
}

/** Count and self size (bytes) of the objects of one kind in a snapshot. */
export interface KindTotal {
  count: number;
  bytes: number;
}

interface SnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/**
 * Totals per kind of object: `<V8 node type>:<name>` (the constructor for objects, the function
 * name for closures; strings, arrays and code grouped by type alone).
 */
export async function totalsByKind(file: string): Promise<Map<string, KindTotal>> {
  const snapshot = JSON.parse(await readFile(file, 'utf8')) as SnapshotFile;
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const totals = new Map<string, KindTotal>();
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]!]!;
    const named = type === 'object' || type === 'closure' || type === 'native' || type === 'hidden' || type === 'object shape';
    const kind = named ? `${type}:${strings[nodes[i + nameAt]!]!.slice(0, 80)}` : type;
    let total = totals.get(kind);
    if (!total) totals.set(kind, (total = { count: 0, bytes: 0 }));
    total.count += 1;
    total.bytes += nodes[i + sizeAt]!;
  }
  return totals;
}

/** What `after` holds beyond `before`, per kind and per socket, largest first; the lines to print. */
export async function compareSnapshots(before: string, after: string, sockets: number, top = 40): Promise<string[]> {
  const [a, b] = await Promise.all([totalsByKind(before), totalsByKind(after)]);
  const rows = [...b].map(([kind, total]) => {
    const was = a.get(kind) ?? { count: 0, bytes: 0 };
    return { kind, count: (total.count - was.count) / sockets, bytes: (total.bytes - was.bytes) / sockets };
  });
  const sum = rows.reduce((n, r) => n + r.bytes, 0);
  rows.sort((x, y) => y.bytes - x.bytes);
  return [
    `heap per socket, by kind (self sizes, ${sockets} sockets): ${(sum / 1024).toFixed(2)} KB in all`,
    ...rows.slice(0, top).map((r) => `${r.bytes.toFixed(0).padStart(7)} B  ${r.count.toFixed(2).padStart(7)} ×  ${r.kind}`),
  ];
}

interface FullSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]]; location_fields: string[] } };
  nodes: number[];
  edges: number[];
  strings: string[];
  locations: number[];
}

/**
 * The objects in `after` that `before` did not have (V8 keeps object ids across snapshots of one
 * process), per socket, grouped by where they come from: closures and their contexts by the
 * function's source location, plain objects by their first property names, arrays and other
 * internals by what holds them. The lines to print, largest first.
 */
export async function newObjectsByOrigin(before: string, after: string, sockets: number, top = 60): Promise<string[]> {
  const old = JSON.parse(await readFile(before, 'utf8')) as FullSnapshot;
  const meta = old.snapshot.meta;
  const nodeWidth = meta.node_fields.length;
  const idAt = meta.node_fields.indexOf('id');
  const seen = new Set<number>();
  for (let i = idAt; i < old.nodes.length; i += nodeWidth) seen.add(old.nodes[i]!);
  const snap = JSON.parse(await readFile(after, 'utf8')) as FullSnapshot;
  const scripts = JSON.parse(await readFile(`${after}.scripts.json`, 'utf8').catch(() => '{}')) as Record<string, string>;
  const { nodes, edges, strings, locations } = snap;
  const types = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const [typeAt, nameAt, sizeAt, edgeCountAt] = ['type', 'name', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f)) as [number, number, number, number];
  const edgeWidth = meta.edge_fields.length;
  const count = nodes.length / nodeWidth;
  const firstEdge = new Uint32Array(count + 1);
  for (let n = 0, e = 0; n < count; n += 1) {
    firstEdge[n] = e;
    e += nodes[n * nodeWidth + edgeCountAt]! * edgeWidth;
    firstEdge[n + 1] = e;
  }
  const where = new Map<number, string>();
  const locWidth = meta.location_fields.length;
  for (let i = 0; i < locations.length; i += locWidth) {
    const url = (scripts[String(locations[i + 1])] ?? `script ${locations[i + 1]}`).replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '').replace(/^.*?\/src\//, 'src/');
    where.set(locations[i]! / nodeWidth, `${url}:${locations[i + 2]! + 1}`);
  }
  const typeOf = (n: number) => types[nodes[n * nodeWidth + typeAt]!]!;
  const nameOf = (n: number) => strings[nodes[n * nodeWidth + nameAt]!]!;
  const isNew = (n: number) => !seen.has(nodes[n * nodeWidth + idAt]!);
  // Who holds each new node: the first non-weak retainer.
  const holder = new Int32Array(count).fill(-1);
  const holderEdge = new Array<string>(count);
  const contextOwner = new Int32Array(count).fill(-1);
  for (let n = 0; n < count; n += 1) {
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e += edgeWidth) {
      const to = edges[e + 2]! / nodeWidth;
      const edgeType = edgeTypes[edges[e]!]!;
      if (edgeType === 'weak' || !isNew(to)) continue;
      if (edgeType === 'internal' && strings[edges[e + 1]!] === 'context' && typeOf(n) === 'closure') contextOwner[to] = n;
      if (holder[to] === -1) {
        holder[to] = n;
        holderEdge[to] = edgeType === 'element' || edgeType === 'hidden' ? `[${edges[e + 1]}]` : strings[edges[e + 1]!]!;
      }
    }
  }
  const propertiesOf = (n: number) => {
    const names: string[] = [];
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]! && names.length < 6; e += edgeWidth) {
      if (edgeTypes[edges[e]!] === 'property') names.push(strings[edges[e + 1]!]!);
    }
    return names.join(',');
  };
  const describe = (n: number, depth: number): string => {
    const type = typeOf(n);
    if (type === 'closure') return `closure ${nameOf(n) || '(anonymous)'} @ ${where.get(n) ?? '?'}`;
    if (type === 'object' && nameOf(n) === 'Object') return `Object {${propertiesOf(n)}}`;
    if (type === 'object' && nameOf(n) !== 'system / Context') return `${nameOf(n)}`;
    if (nameOf(n) === 'system / Context' && contextOwner[n] !== -1) return `context of ${describe(contextOwner[n]!, depth)}`;
    const h = holder[n]!;
    const label = type === 'object' || type === 'hidden' || type === 'native' ? nameOf(n).slice(0, 40) : type;
    if (h === -1 || depth >= 2) return `${label} (held by ${h === -1 ? 'older objects' : typeOf(h)})`;
    return `${label} in .${holderEdge[n]} of ${describe(h, depth + 1)}`;
  };
  // The nearest holder with a telling name (a class, a closure with a location, a plain object's
  // properties), up the first-retainer chain: a rough "who keeps this alive", summed.
  const generic = new Set(['Object', 'Array', 'Map', 'Set', 'Promise', 'WeakMap', 'system / Context', 'system / PropertyArray', 'system / PromiseReaction', 'WeakRef', 'Generator']);
  const telling = (n: number) => {
    const type = typeOf(n);
    if (type === 'closure') return where.has(n) && !where.get(n)!.startsWith('?');
    return type === 'object' && !generic.has(nameOf(n));
  };
  const ownerOf = (n: number) => {
    for (let at = n, steps = 0; at !== -1 && steps < 12; at = holder[at]!, steps += 1) {
      if (telling(at)) return describe(at, 0);
    }
    return `(no named holder) ${describe(n, 0)}`;
  };
  const groups = new Map<string, { count: number; bytes: number }>();
  const owners = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  const add = (map: Map<string, { count: number; bytes: number }>, key: string, bytes: number) => {
    let group = map.get(key);
    if (!group) map.set(key, (group = { count: 0, bytes: 0 }));
    group.count += 1;
    group.bytes += bytes;
  };
  for (let n = 0; n < count; n += 1) {
    if (!isNew(n)) continue;
    const bytes = nodes[n * nodeWidth + sizeAt]!;
    total += bytes;
    add(groups, describe(n, 0), bytes);
    add(owners, ownerOf(n), bytes);
  }
  const rows = (map: Map<string, { count: number; bytes: number }>) =>
    [...map]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, top)
      .map(([key, g]) => `${(g.bytes / sockets).toFixed(0).padStart(7)} B  ${(g.count / sockets).toFixed(2).padStart(6)} ×  ${key}`);
  return [
    `new objects per socket, by origin (self sizes, ${sockets} sockets): ${(total / sockets / 1024).toFixed(2)} KB in all`,
    ...rows(groups),
    'the same, by nearest named holder (first retainers; count = objects held):',
    ...rows(owners),
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [before, after, sockets, top] = process.argv.slice(2);
  if (!before || !after || !sockets) {
    console.error('usage: node bench/subscriptions/heap-snapshot.ts <before.heapsnapshot> <after.heapsnapshot> <sockets> [top=40]');
    process.exit(2);
  }
  for (const line of await compareSnapshots(before, after, Number(sockets), Number(top ?? 40))) console.log(line);
  for (const line of await newObjectsByOrigin(before, after, Number(sockets), Number(top ?? 40) * 2)) console.log(line);
}
