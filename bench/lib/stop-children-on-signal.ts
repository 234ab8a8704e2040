import { constants } from 'node:os';
import { descendantsOf, isRunning } from '../../test/ops/support/process-tree.ts';

/**
 * Makes SIGINT and SIGTERM to a benchmark end the servers and workers it started, whoever spawned
 * them (its own helpers, test/ops/support/gateway.ts): each child process gets SIGTERM (a graceful
 * stop: Ordergraph drains, a CPU profile is written), SIGKILL after `graceMs`, then the benchmark
 * exits with 128 + the signal's number, as a shell reports a process a signal ended.
 *
 * Without it, Node's default action ends the benchmark at once and its servers, re-parented to
 * PID 1, keep running (issue 10, item 2; `npm run bench*` execs node, so npm's forwarded signal
 * reaches this process). A second signal while stopping takes Node's default action (ends it at
 * once). Children are read from /proc: Linux only, elsewhere only the benchmark ends.
 */
export function stopChildrenOnSignals(options: { graceMs?: number } = {}): void {
  const graceMs = options.graceMs ?? 30_000;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stopChildren(graceMs).finally(() => process.exit(128 + constants.signals[signal]));
    });
  }
}

async function stopChildren(graceMs: number): Promise<void> {
  let children: number[];
  try {
    children = descendantsOf(process.pid)
      .filter((entry) => entry.ppid === process.pid)
      .map((entry) => entry.pid);
  } catch {
    return; // no /proc
  }
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  for (const pid of children) signal(pid, 'SIGTERM');
  // The children are not ours to 'exit'-watch (some were spawned by helpers): /proc tells when they are gone.
  const deadline = Date.now() + graceMs;
  while (children.some(isRunning) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const pid of children.filter(isRunning)) signal(pid, 'SIGKILL');
}
