// The idle-socket ramp of the subscription benchmark (issue 14: "50,000 idle subscribed sockets on
// one instance, held with flat memory"): Ordergraph takes subscribed sockets in steps up to the
// target, its memory read after forced GCs at each step, then holds them idle (keep-alive pings
// going) and is read again. As far as the server's open-files limit allows: one descriptor per
// socket, and only a privileged process can raise a hard limit (Node raises its soft limit to the
// hard one at start, so `npm start` needs no `ulimit` of its own).
import { readdir, readFile } from 'node:fs/promises';
import type { MemorySample, ServerProcess } from './processes.ts';

/** The open-files limit of a process and the descriptors it had open when read. */
export interface FdLimit {
  readonly soft: number;
  readonly hard: number;
  readonly inUse: number;
}

/** Memory of the server holding `sockets` idle subscribed sockets, after forced GCs. */
export interface IdleStep {
  readonly sockets: number;
  readonly memory: MemorySample;
  /** Seconds to connect and subscribe this step's new sockets. */
  readonly connectSeconds: number;
}

/** What the ramp measured. */
export interface IdleRamp {
  readonly target: number;
  /** The sockets it went up to: the target, or fewer when the open-files limit is lower. */
  readonly reached: number;
  readonly fdLimit: FdLimit;
  /** Loopback source addresses the clients connected from. */
  readonly sourceAddresses: number;
  /** The server before the ramp (0 sockets). */
  readonly baseline: MemorySample;
  readonly steps: IdleStep[];
  /** After holding `reached` sockets idle for `seconds`: memory again, and subscriptions still active. */
  readonly held: { readonly seconds: number; readonly memory: MemorySample; readonly subscribed: number };
}

/** Descriptors kept free for the server's own needs (database pool, listening sockets, the benchmark's HTTP calls). */
const FD_RESERVE = 200;

/** Reads a process's open-files limit and open descriptors from Linux's /proc. */
export async function fdLimitOf(pid: number): Promise<FdLimit> {
  const limits = await readFile(`/proc/${pid}/limits`, 'utf8');
  const line = limits.split('\n').find((l) => l.startsWith('Max open files')) ?? '';
  const [soft, hard] = line
    .slice('Max open files'.length)
    .trim()
    .split(/\s+/)
    .map((v) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v)));
  return { soft: soft ?? Number.NaN, hard: hard ?? Number.NaN, inUse: (await readdir(`/proc/${pid}/fd`)).length };
}

/**
 * Connects subscribed sockets to `server` in steps of `step` up to `target` (or what its
 * open-files limit leaves), reading its memory after each step, then holds them `holdSeconds`
 * and reads it again. The caller closes the sockets afterwards.
 */
export async function runIdleRamp(
  deps: {
    readonly server: ServerProcess;
    /** Opens `count` more subscribed sockets; resolves with the seconds it took, once the server counts them all. */
    readonly connect: (count: number) => Promise<number>;
    /** The server's active-subscriptions gauge. */
    readonly subscribed: () => Promise<number>;
    readonly log: (line: string) => void;
  },
  options: { readonly target: number; readonly step: number; readonly holdSeconds: number; readonly sourceAddresses: number },
): Promise<IdleRamp> {
  const { server, log } = deps;
  const fdLimit = await fdLimitOf(server.child.pid!);
  const reached = Math.max(0, Math.min(options.target, fdLimit.soft - fdLimit.inUse - FD_RESERVE));
  if (reached < options.target) {
    log(`idle ramp: the server may open ${fdLimit.soft} files (hard limit ${fdLimit.hard}, ${fdLimit.inUse} open): going to ${reached} of ${options.target} sockets`);
  }
  const baseline = await server.memory();
  const steps: IdleStep[] = [];
  for (let sockets = 0; sockets < reached; ) {
    const next = Math.min(reached, sockets + options.step);
    const connectSeconds = await deps.connect(next - sockets);
    sockets = next;
    // Idle: let the handshakes' garbage and timers settle before the forced GC.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const memory = await server.memory();
    steps.push({ sockets, memory, connectSeconds });
    const previous = steps.at(-2)?.memory ?? baseline;
    log(
      `idle ramp: ${sockets} sockets, RSS ${(memory.rss / 2 ** 20).toFixed(0)} MB, heap ${(memory.heapUsed / 2 ** 20).toFixed(0)} MB; ` +
        `this step ${((memory.rss - previous.rss) / (next - (steps.at(-2)?.sockets ?? 0)) / 1024).toFixed(1)} KB RSS per socket; connect ${connectSeconds.toFixed(1)} s`,
    );
  }
  await new Promise((resolve) => setTimeout(resolve, options.holdSeconds * 1_000));
  const held = { seconds: options.holdSeconds, memory: await server.memory(), subscribed: await deps.subscribed() };
  log(`idle ramp: after ${options.holdSeconds} s idle, RSS ${(held.memory.rss / 2 ** 20).toFixed(0)} MB, ${held.subscribed} subscriptions active`);
  return { target: options.target, reached, fdLimit, sourceAddresses: options.sourceAddresses, baseline, steps, held };
}

/** The ramp's part of bench/RESULTS.md's `## Subscriptions` section. */
export function renderIdleRamp(ramp: IdleRamp): string[] {
  const kb = (bytes: number) => (bytes / 1024).toFixed(1);
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const lines = [
    '',
    `### Idle subscribed sockets on one instance (target ${ramp.target.toLocaleString('en')})`,
    '',
    `Ordergraph takes subscribed sockets (the same subscription) in steps, from ${ramp.sourceAddresses} loopback source address${ramp.sourceAddresses > 1 ? 'es' : ''}; memory after two forced GCs at each step; then the sockets stay idle for ${ramp.held.seconds} s (graphql-ws keep-alive pings every 12 s) and memory is read again. ` +
      `Open-files limit of the server process: soft ${ramp.fdLimit.soft.toLocaleString('en')}, hard ${ramp.fdLimit.hard.toLocaleString('en')} (Node raises its soft limit to the hard one at start).` +
      (ramp.reached < ramp.target
        ? ` **Reached ${ramp.reached.toLocaleString('en')} of ${ramp.target.toLocaleString('en')}**: one descriptor per socket, and only a privileged parent can raise a hard limit (\`ulimit -Hn\` as root, a container's \`--ulimit nofile\`); ` +
          `at the per-socket cost measured, ${ramp.target.toLocaleString('en')} sockets need about ${mb(ramp.baseline.rss + (ramp.target * (ramp.steps.at(-1)!.memory.rss - ramp.baseline.rss)) / ramp.reached)} MB RSS and a hard limit above ${(ramp.target + FD_RESERVE).toLocaleString('en')} (e.g. \`docker run --ulimit nofile=65536:65536\`, systemd \`LimitNOFILE=65536\`).`
        : ''),
    '',
    '| Sockets | RSS (MB) | heap (MB) | RSS per socket, this step (KB) | heap per socket, this step (KB) | RSS per socket, all (KB) | connect + subscribe this step (s) |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    `| 0 | ${mb(ramp.baseline.rss)} | ${mb(ramp.baseline.heapUsed)} | | | | |`,
  ];
  let previous = { sockets: 0, memory: ramp.baseline };
  for (const step of ramp.steps) {
    const added = step.sockets - previous.sockets;
    lines.push(
      `| ${step.sockets.toLocaleString('en')} | ${mb(step.memory.rss)} | ${mb(step.memory.heapUsed)} | ${kb((step.memory.rss - previous.memory.rss) / added)} | ${kb((step.memory.heapUsed - previous.memory.heapUsed) / added)} | ` +
        `${kb((step.memory.rss - ramp.baseline.rss) / step.sockets)} | ${step.connectSeconds.toFixed(1)} |`,
    );
    previous = step;
  }
  const last = ramp.steps.at(-1);
  if (last) {
    lines.push(
      `| ${last.sockets.toLocaleString('en')}, after ${ramp.held.seconds} s idle | ${mb(ramp.held.memory.rss)} | ${mb(ramp.held.memory.heapUsed)} | | | ${kb((ramp.held.memory.rss - ramp.baseline.rss) / last.sockets)} | ${ramp.held.subscribed.toLocaleString('en')} subscriptions still active |`,
    );
  }
  return lines;
}
