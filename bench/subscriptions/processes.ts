// Server processes for the subscription benchmark, and the one way their memory is read: through
// the V8 inspector (`--inspect` on loopback), which can force a full GC in the server before
// `process.memoryUsage()`, whatever the server's code. Ordergraph and the bare `ws` server are
// both read this way, so their per-socket figures compare like for like.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { terminate } from '../../test/support/process.ts';
import { openInspectorSession } from '../lib/inspector-profile.ts';

/** The repository root (commands run from there, as `npm start` does). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Servers die with the benchmark, however it ends (an exception, the CLI's time limit).
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** `process.memoryUsage()` of a server process after a forced full GC, in bytes. */
export interface MemorySample {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** A server child process started with the inspector on a loopback port. */
export interface ServerProcess {
  readonly child: ChildProcess;
  /** The process's inspector (ws://127.0.0.1:…), e.g. for heap snapshots. */
  readonly inspectorUrl: string;
  /** Everything the process wrote so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Forces a full GC in the process and reads its memory. */
  memory(): Promise<MemorySample>;
  /** CPU time the process has used so far (user + system), ms (`process.cpuUsage()`, µs resolution). */
  cpuMs(): Promise<number>;
  /** SIGTERM (a graceful stop: a CPU profile is written on exit), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts `node [execArgv] --inspect=127.0.0.1:0 <args>` in the repository root with exactly `env`
 * (plus PATH), and resolves once the inspector is listening and `ready(output)` returns true.
 */
export async function startServerProcess(options: {
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** Working directory (default: this repository's root). */
  readonly cwd?: string;
  readonly execArgv?: readonly string[];
  readonly ready: (output: string) => boolean | Promise<boolean>;
  readonly timeoutMs?: number;
  /** Also write everything the process prints to this file. */
  readonly logFile?: string;
}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...(options.execArgv ?? []), '--inspect=127.0.0.1:0', ...options.args], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let raw = '';
  const log = options.logFile ? createWriteStream(options.logFile) : undefined;
  const append = (chunk: string) => {
    log?.write(chunk);
    raw += chunk;
    // Bounded: only the start-up lines and the last output are ever read.
    if (raw.length > 2_000_000) raw = raw.slice(-1_000_000);
  };
  child.stdout!.setEncoding('utf8').on('data', append);
  child.stderr!.setEncoding('utf8').on('data', append);
  child.once('exit', () => log?.end());
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let inspectorUrl: string | undefined;
  for (;;) {
    inspectorUrl ??= /Debugger listening on (ws:\/\/\S+)/.exec(raw)?.[1];
    if (inspectorUrl && (await Promise.resolve().then(() => options.ready(raw)).catch(() => false))) break;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited during start-up:\n${raw.slice(-4_000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start in time:\n${raw.slice(-4_000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const url = inspectorUrl;
  return {
    child,
    inspectorUrl: url,
    output: () => raw,
    memory: () => readMemory(url),
    cpuMs: () => readCpuMs(url),
    stop: (timeoutMs = 30_000) => terminate(child, exited, timeoutMs),
  };
}

/** One inspector session: two full GCs (the second collects what the first's finalizers freed), then memoryUsage(). */
async function readMemory(inspectorUrl: string): Promise<MemorySample> {
  const { call, close } = await openInspectorSession(inspectorUrl);
  try {
    await call('HeapProfiler.collectGarbage');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await call('HeapProfiler.collectGarbage');
    const result = (await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as { result: { value: string } };
    const usage = JSON.parse(result.result.value) as MemorySample;
    return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers };
  } finally {
    close();
  }
}

/** `process.cpuUsage()` of the process through its inspector: user + system, ms. */
async function readCpuMs(inspectorUrl: string): Promise<number> {
  const { call, close } = await openInspectorSession(inspectorUrl);
  try {
    const result = (await call('Runtime.evaluate', { expression: '(({ user, system }) => (user + system) / 1000)(process.cpuUsage())', returnByValue: true })) as { result: { value: number } };
    return result.result.value;
  } finally {
    close();
  }
}
