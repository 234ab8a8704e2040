import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

// What the machine spent during the stream, so the lag figures can be read against it: a 2-core
// machine running 3 gateways, PostgreSQL, Redis and 300+ clients is saturated, and a harness whose
// own event loop is late stamps every arrival late.

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, from /proc; undefined once it is gone. */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU ticks of the whole machine so far (/proc/stat's first line). */
function machineTicks(): { busy: number; total: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const numbers = values.map(Number);
  const idle = (numbers[3] ?? 0) + (numbers[4] ?? 0);
  const total = numbers.reduce((sum, n) => sum + n, 0);
  return { busy: total - idle, total };
}

/** What {@link watchResources} reports at the end. */
export interface ResourceUse {
  /** Share of the machine's CPU time that was busy (0–1), all processes. */
  readonly machineBusy: number;
  /** CPU seconds of the harness (this process: clients and writers) and of each gateway process still running. */
  readonly cpuSeconds: Readonly<Record<string, number>>;
  /** The harness's event-loop delay, ms: how late it may have stamped an arrival. */
  readonly harnessLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

/** Starts watching; `stop(pids)` reports the use since, with `pids` the gateway processes by name. */
export function watchResources(): { stop(pids: Readonly<Record<string, number | undefined>>, startCpu: Readonly<Record<string, number | undefined>>): ResourceUse; cpuOf(pid: number | undefined): number | undefined } {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const machineStart = machineTicks();
  const harnessStart = process.cpuUsage();
  return {
    cpuOf: (pid) => (pid === undefined ? undefined : cpuSecondsOf(pid)),
    stop(pids, startCpu) {
      loop.disable();
      const machineEnd = machineTicks();
      const harness = process.cpuUsage(harnessStart);
      const cpuSeconds: Record<string, number> = { harness: Math.round((harness.user + harness.system) / 10_000) / 100 };
      for (const [name, pid] of Object.entries(pids)) {
        const end = pid === undefined ? undefined : cpuSecondsOf(pid);
        const start = startCpu[name] ?? 0;
        if (end !== undefined) cpuSeconds[name] = Math.round((end - start) * 100) / 100;
      }
      const ms = (ns: number) => Math.round(ns / 1e5) / 10;
      return {
        machineBusy: Math.round(((machineEnd.busy - machineStart.busy) / Math.max(1, machineEnd.total - machineStart.total)) * 100) / 100,
        cpuSeconds,
        harnessLoopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
      };
    },
  };
}

/** What the instances' own metrics say of the order log, summed over the instances (a restarted one counts from its restart). */
export interface ServerFigures {
  /**
   * Change written → read by an instance's log reader (`ordergraph_order_event_publish_lag_seconds`),
   * as the upper bound of the histogram bucket holding p50 and p99, ms: the part of the client lag
   * spent before fan-out.
   */
  readonly logReadLagMs: { readonly n: number; readonly p50AtMost: number | null; readonly p99AtMost: number | null };
  /** Log reads by trigger (ring, timer, retry). */
  readonly logReads: Readonly<Record<string, number>>;
  readonly slowConsumerCloses: number;
}

/** Scrapes `/metrics` of each instance (origins) and sums the order log's figures. */
export async function scrapeServerFigures(origins: readonly string[]): Promise<ServerFigures> {
  const buckets = new Map<number, number>();
  const logReads: Record<string, number> = {};
  let slowConsumerCloses = 0;
  for (const origin of origins) {
    const text = await (await fetch(new URL('/metrics', origin), { signal: AbortSignal.timeout(5_000) })).text();
    for (const line of text.split('\n')) {
      const bucket = /^ordergraph_order_event_publish_lag_seconds_bucket\{le="([^"]+)"\} (\S+)/.exec(line);
      if (bucket) buckets.set(Number(bucket[1]), (buckets.get(Number(bucket[1])) ?? 0) + Number(bucket[2]));
      const reads = /^ordergraph_order_log_reads_total\{trigger="([^"]+)"\} (\S+)/.exec(line);
      if (reads) logReads[reads[1]!] = (logReads[reads[1]!] ?? 0) + Number(reads[2]);
      const slow = /^ordergraph_websocket_slow_consumer_closes_total (\S+)/.exec(line);
      if (slow) slowConsumerCloses += Number(slow[1]);
    }
  }
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  const n = sorted.at(-1)?.[1] ?? 0;
  const atMost = (q: number) => {
    const found = sorted.find(([, count]) => count >= q * n);
    return n === 0 || !found ? null : found[0] === Infinity ? Infinity : found[0] * 1_000;
  };
  return { logReadLagMs: { n, p50AtMost: atMost(0.5), p99AtMost: atMost(0.99) }, logReads, slowConsumerCloses };
}
