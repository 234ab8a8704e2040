// bench/results/subscriptions.svg: the subscription benchmark's figures at a glance, one panel per
// measure (p99 latency, CPU per change, memory per idle socket; the idle ramp when it ran), each
// with Ordergraph and the bare `ws` server side by side per size (medians over the repeats,
// whiskers min–max). Written by bench/subscriptions.ts with its section of bench/RESULTS.md.

/** What the chart reads of a run: per size, each repeat's figures for both servers. */
export interface ChartInput {
  readonly date: string;
  readonly sizes: readonly {
    readonly subscribers: number;
    readonly ordergraph: { readonly p99: number[]; readonly cpuMs: number[]; readonly rssKb: number[] };
    readonly bare: { readonly p99: number[]; readonly cpuMs: number[]; readonly rssKb: number[] };
  }[];
  /** The idle ramp: sockets and RSS (MB) at each step, from 0. */
  readonly ramp?: { readonly target: number; readonly points: readonly { readonly sockets: number; readonly rssMb: number }[] };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! : Number.NaN;
};

interface Panel {
  readonly title: string;
  readonly unit: string;
  /** A vertical line (e.g. a target), with its label. */
  readonly mark?: { readonly at: number; readonly label: string };
  readonly rows: readonly { readonly label: string; readonly values: readonly number[]; readonly fill: string; readonly note?: string }[];
}

const ORANGE = '#d9822b';
const BLUE = '#4c8bd6';

/** The SVG text of the chart. */
export function renderSubscriptionChart(input: ChartInput): string {
  const panels: Panel[] = [];
  const rowsOf = (pick: (side: ChartInput['sizes'][number]['ordergraph']) => number[], ratio: boolean) =>
    input.sizes.flatMap((size) => {
      const og = pick(size.ordergraph);
      const bare = pick(size.bare);
      // The ratio of each repeat (both servers measured in it), then their median, as in RESULTS.md's tables.
      const note = ratio ? `${median(og.map((v, i) => v / (bare[i] ?? Number.NaN))).toFixed(2)}× bare` : undefined;
      return [
        { label: `${size.subscribers.toLocaleString('en')} Ordergraph`, values: og, fill: ORANGE, ...(note ? { note } : {}) },
        { label: `${size.subscribers.toLocaleString('en')} bare ws`, values: bare, fill: BLUE },
      ];
    });
  panels.push({ title: 'p99 commit → delivery', unit: 'ms', rows: rowsOf((s) => s.p99, true) });
  panels.push({ title: 'CPU per change (server process)', unit: 'ms', rows: rowsOf((s) => s.cpuMs, true) });
  panels.push({ title: 'Memory per idle subscribed socket (RSS)', unit: 'KB', mark: { at: 20, label: 'target 20 KB' }, rows: rowsOf((s) => s.rssKb, false) });
  if (input.ramp && input.ramp.points.length > 1) {
    panels.push({
      title: `Idle ramp (target ${input.ramp.target.toLocaleString('en')} sockets): server RSS`,
      unit: 'MB',
      rows: input.ramp.points.map((p) => ({ label: `${p.sockets.toLocaleString('en')} sockets`, values: [p.rssMb], fill: ORANGE })),
    });
  }

  const width = 900;
  const rowHeight = 20;
  const x0 = 200;
  const w = 560;
  const height = 50 + panels.reduce((sum, p) => sum + p.rows.length * rowHeight + 56, 0);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">Subscriptions: Ordergraph (orange) and a bare ws server (blue), medians of the repeats, whiskers min–max — ${input.date.slice(0, 10)}</text>`,
  ];
  let y = 46;
  for (const panel of panels) {
    const max = Math.max(panel.mark?.at ?? 0, ...panel.rows.flatMap((r) => r.values.filter(Number.isFinite))) * 1.1 || 1;
    const scale = (v: number) => (Math.max(0, v) / max) * w;
    parts.push(`<text x="10" y="${y + 4}" font-weight="bold">${panel.title} (${panel.unit})</text>`);
    const bottom = y + 12 + panel.rows.length * rowHeight;
    if (panel.mark) {
      const x = x0 + scale(panel.mark.at);
      parts.push(`<line x1="${x.toFixed(1)}" y1="${y + 8}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="#c00" stroke-dasharray="4 3"/>`, `<text x="${x.toFixed(1)}" y="${bottom + 14}" text-anchor="middle" fill="#c00">${panel.mark.label}</text>`);
    }
    panel.rows.forEach((row, i) => {
      const top = y + 12 + i * rowHeight;
      const values = row.values.filter(Number.isFinite);
      const mid = median(values);
      parts.push(`<text x="${x0 - 8}" y="${top + 14}" text-anchor="end">${row.label}</text>`);
      if (!values.length) return;
      parts.push(`<rect x="${x0}" y="${top + 3}" width="${scale(mid).toFixed(1)}" height="${rowHeight - 6}" fill="${row.fill}"/>`);
      const cy = top + rowHeight / 2;
      parts.push(`<line x1="${(x0 + scale(Math.min(...values))).toFixed(1)}" y1="${cy}" x2="${(x0 + scale(Math.max(...values))).toFixed(1)}" y2="${cy}" stroke="#222"/>`);
      const label = `${mid >= 100 ? mid.toFixed(0) : mid.toFixed(1)}${row.note ? ` · ${row.note}` : ''}`;
      parts.push(`<text x="${(x0 + scale(Math.max(...values)) + 6).toFixed(1)}" y="${top + 14}" fill="#222">${label}</text>`);
    });
    y = bottom + 44;
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
