import WebSocket from 'ws';
import type { CpuProfile } from './cpu-profile.ts';

/** A CPU profile being recorded in another Node process. */
export interface RunningProfile {
  /** Stops sampling and returns the profile (the `.cpuprofile` format). */
  stop(): Promise<CpuProfile>;
}

/** An open Chrome DevTools Protocol session with another Node process's inspector. */
export interface InspectorSession {
  /** Sends `method` and resolves with its result. @throws Error with the inspector's message when it refuses the command. */
  call(method: string, params?: Record<string, unknown>): Promise<unknown>;
  close(): void;
}

/**
 * Connects to the inspector listening at `inspectorUrl` (a process started with
 * `--inspect=127.0.0.1:0`; the URL is in its "Debugger listening on" line).
 * @throws Error when the inspector cannot be reached.
 */
export async function openInspectorSession(inspectorUrl: string): Promise<InspectorSession> {
  const socket = new WebSocket(inspectorUrl, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(message.error.message));
    else waiter?.resolve(message.result);
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = (nextId += 1);
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { call, close: () => socket.close() };
}

/**
 * Starts V8's sampling CPU profiler in the process whose inspector listens at `inspectorUrl` (a
 * server started with `--inspect=127.0.0.1:0`; the URL is in its "Debugger listening on" line), so
 * that the profile covers exactly the measured seconds, not start-up and warm-up as `--cpu-prof`
 * would. Sampling interval 1 ms, as `--cpu-prof`.
 * @throws Error when the inspector cannot be reached or refuses a command.
 */
export async function startInspectorProfile(inspectorUrl: string, intervalUs = 1_000): Promise<RunningProfile> {
  const { call, close } = await openInspectorSession(inspectorUrl);
  try {
    await call('Profiler.enable');
    await call('Profiler.setSamplingInterval', { interval: intervalUs });
    await call('Profiler.start');
  } catch (error) {
    close();
    throw error;
  }
  return {
    stop: async () => {
      try {
        const { profile } = (await call('Profiler.stop')) as { profile: CpuProfile };
        return profile;
      } finally {
        close();
      }
    },
  };
}
