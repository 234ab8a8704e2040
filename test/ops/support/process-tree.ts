import { readFileSync, readdirSync } from 'node:fs';

/** One process as Linux's /proc shows it. */
export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  /** Single-letter state (R, S, Z…); a zombie (Z) has exited and waits to be reaped. */
  readonly state: string;
  /** The command line, arguments joined by spaces. */
  readonly command: string;
}

/** /proc/<pid>/stat and cmdline, or undefined when the process is gone. */
export function processEntry(pid: number): ProcessEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces and parentheses) start after the last ')'.
    const [state = '?', ppid = '0'] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return { pid, ppid: Number(ppid), state, command };
  } catch {
    return undefined;
  }
}

/** Whether `pid` still runs (a zombie counts as ended: it has exited, only its exit status is left). */
export function isRunning(pid: number): boolean {
  const entry = processEntry(pid);
  return entry !== undefined && entry.state !== 'Z';
}

/** Every running process below `pid` (children, grandchildren…), from /proc; Linux only. */
export function descendantsOf(pid: number): ProcessEntry[] {
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => processEntry(Number(name)))
    .filter((entry): entry is ProcessEntry => entry !== undefined && entry.state !== 'Z');
  const found: ProcessEntry[] = [];
  const parents = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const entry of all) {
      if (parents.has(entry.ppid) && !parents.has(entry.pid)) {
        parents.add(entry.pid);
        found.push(entry);
        grew = true;
      }
    }
  }
  return found;
}
