import type { ChildProcess } from 'node:child_process';

/**
 * Stops a child process: SIGTERM, then SIGKILL if it is still running after `timeoutMs` ms.
 * Resolves once `exited` (the caller's promise of its 'exit' event) has; at once when it had already exited.
 */
export async function terminate(child: ChildProcess, exited: Promise<unknown>, timeoutMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}
