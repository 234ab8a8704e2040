import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { terminate } from '../../test/support/process.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A contestant's server process. */
export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Last lines of stderr, for failure messages. */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Starts `node …args` with `env` (on top of PATH only) listening on `port`, and waits (bounded)
 * until `ready(url)` answers true. stdout goes to /dev/null: Ordergraph's production logs cost it
 * the serialisation, as in production, but nobody parses them here.
 */
export async function startServer(name: string, args: string[], env: Record<string, string>, port: number, ready: (origin: string) => Promise<boolean>, options: { timeoutMs?: number; cwd?: string } = {}): Promise<ServerProcess> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = spawn(process.execPath, args, { cwd: options.cwd ?? ROOT, env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited at start (${child.exitCode}):\n${stderr}`);
    if (await ready(origin).catch(() => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not become ready in ${timeoutMs} ms:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    name,
    url: `${origin}/graphql`,
    pid: child.pid!,
    child,
    stderr: () => stderr,
    stop: () => terminate(child, exited),
  };
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; NaN when unreadable. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds used so far by each PostgreSQL server process on this machine (backends, WAL writer, checkpointer…). */
export function postgresCpuSnapshot(): Map<number, number> {
  const snapshot = new Map<number, number>();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let comm: string;
      try {
        comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
      if (comm === 'postgres' || comm.startsWith('postgres:')) snapshot.set(Number(entry), cpuSeconds(Number(entry)) || 0);
    }
  } catch {
    // not Linux: empty
  }
  return snapshot;
}

/**
 * CPU seconds PostgreSQL's processes used between two snapshots: per process, so a backend that
 * exits in between (a closed connection) does not make the sum go down; one that started counts
 * from zero. Shared with anything else using the server at the time; NaN without /proc.
 */
export function postgresCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  if (after.size === 0) return Number.NaN;
  let total = 0;
  for (const [pid, seconds] of after) total += Math.max(0, seconds - (before.get(pid) ?? 0));
  return total;
}

/** The machine, for the report. */
export function machine(): { cpus: number; model: string; memoryGiB: number; kernel: string; loadAverage: number[] } {
  let model = 'unknown';
  let memoryGiB = 0;
  let kernel = 'unknown';
  try {
    model = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
    memoryGiB = Number(/MemTotal:\s*(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024 / 1024;
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // not Linux: the report says unknown
  }
  return { cpus: navigator.hardwareConcurrency, model, memoryGiB, kernel, loadAverage: loadAverage() };
}

export function loadAverage(): number[] {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return [];
  }
}
