import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptsConnections, freePort } from '../support/net.ts';
import { eventually } from './support/gateway.ts';
import { descendantsOf, isRunning, type ProcessEntry } from './support/process-tree.ts';

/**
 * A process manager or a terminal's `kill` signals the npm process of `npm start`, not the server:
 * the server must end with it (issue 10, item 2), and the same for the benchmarks' scripts.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface NpmRun {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

const started: { run: NpmRun; tree: ProcessEntry[]; dataDir: string }[] = [];

/** `npm run <script>` as a user types it, with the project's Node first on the PATH (as after `npm ci`). */
function npmRun(script: string, env: Record<string, string>): NpmRun {
  const child = spawn('npm', ['run', script], {
    cwd: ROOT,
    env: { PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => void (output = (output + chunk).slice(-20_000)));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => void (output = (output + chunk).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => output };
}

/** Resolves with `promise`, or rejects after `ms` saying what did not happen. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

afterEach(async () => {
  // A failed test must not leave a server behind: whatever of the tree still runs is killed.
  for (const { run, tree, dataDir } of started.splice(0)) {
    for (const entry of [...tree, ...descendantsOf(run.child.pid!)]) if (isRunning(entry.pid)) process.kill(entry.pid, 'SIGKILL');
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await run.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});

describe('signalling the npm process of `npm start` ends the server', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: the server shuts down gracefully, nothing is left running and the port is closed`, async () => {
      const port = await freePort();
      const dataDir = await mkdtemp(join(tmpdir(), 'ordergraph-npm-signal-'));
      // The embedded default database, as in the README's two commands.
      const run = npmRun('start', { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, GRAPHIQL: 'false' });
      const entry = { run, tree: [] as ProcessEntry[], dataDir };
      started.push(entry);
      let npmExited = false;
      void run.exited.then(() => (npmExited = true));
      await eventually(async () => {
        if (npmExited) throw new Error('stop polling');
        return (await fetch(`http://127.0.0.1:${port}/ready`)).status === 200;
      }, 90_000, 200, `/ready of npm start on port ${port}`).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${run.output().slice(-4_000)}`);
      });

      entry.tree = descendantsOf(run.child.pid!);
      const server = entry.tree.find((p) => p.command.includes('src/main.ts'));
      expect(server, `no server process under npm: ${JSON.stringify(entry.tree)}`).toBeDefined();

      run.child.kill(signal);
      const npm = await within(run.exited, 60_000, `npm's exit after ${signal}`);
      await eventually(() => entry.tree.every((p) => !isRunning(p.pid)), 30_000, 50, `every process of npm start to end after ${signal}`).catch((error: unknown) => {
        throw new Error(`${String(error)}; still running: ${JSON.stringify(entry.tree.filter((p) => isRunning(p.pid)))}`);
      });
      expect(await acceptsConnections(port)).toBe(false);
      // Graceful: the server's own shutdown ran to the end, and npm reports its clean exit.
      expect(run.output()).toContain('"msg":"shutdown complete"');
      expect(npm).toEqual({ code: 0, signal: null });
    }, 150_000);
  }
});

describe('signalling the npm process of a benchmark ends the servers it started', () => {
  it('SIGTERM to `npm run bench:subscriptions`: its Ordergraph, bare server and workers end with it', async () => {
    // Its own temporary directory (the benchmark's data directory lives there and is not removed
    // on a signal), and the embedded database: a closed port stands for "no PostgreSQL", so no
    // benchmark database is left on the shared server.
    const dataDir = await mkdtemp(join(tmpdir(), 'ordergraph-npm-signal-bench-'));
    const closedPort = await freePort();
    const run = npmRun('bench:subscriptions', { TMPDIR: dataDir, BENCH_DATABASE_URL: `postgres://postgres@127.0.0.1:${closedPort}/postgres`, BENCH_SUBS_SIZES: '1', BENCH_SUBS_REPEATS: '1' });
    const entry = { run, tree: [] as ProcessEntry[], dataDir };
    started.push(entry);
    const servers = () => descendantsOf(run.child.pid!).filter((p) => p.command.includes('src/main.ts') || p.command.includes('bare-server.ts'));
    await eventually(() => {
      if (run.child.exitCode !== null) throw new Error('stop polling');
      return servers().length === 2;
    }, 120_000, 200, 'both servers of the benchmark to run').catch((error: unknown) => {
      throw new Error(`${String(error)}\n${run.output().slice(-4_000)}`);
    });
    entry.tree = descendantsOf(run.child.pid!);

    run.child.kill('SIGTERM');
    const npm = await within(run.exited, 60_000, "npm's exit after SIGTERM");
    await eventually(() => entry.tree.every((p) => !isRunning(p.pid)), 30_000, 50, 'every process of the benchmark to end').catch((error: unknown) => {
      throw new Error(`${String(error)}; still running: ${JSON.stringify(entry.tree.filter((p) => isRunning(p.pid)))}`);
    });
    // The benchmark did not finish: npm reports the failure (128 + 15 from the benchmark).
    expect(npm.code).not.toBe(0);
  }, 180_000);
});
