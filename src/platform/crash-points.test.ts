import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createCrashPoints, noCrashPoints, type CrashPointName } from './crash-points.ts';

const MODULE_URL = pathToFileURL(fileURLToPath(new URL('./crash-points.ts', import.meta.url))).href;
const ALL_POINTS: readonly CrashPointName[] = ['payment.before-charge', 'payment.after-charge', 'order.after-commit'];

/**
 * Runs a child Node process (Node 24 runs the .ts module directly) that arms `armed` with `skip`,
 * then makes `passes` passes, each printing `pass <n>` and reaching every crash point once, the
 * armed one last. @returns how it ended.
 */
function runChild(armed: CrashPointName | undefined, skip: number, passes: number) {
  const script = `
    import { createCrashPoints } from ${JSON.stringify(MODULE_URL)};
    const points = createCrashPoints(${armed === undefined ? 'undefined' : JSON.stringify(armed)}, ${skip});
    const all = ${JSON.stringify(ALL_POINTS)};
    const armed = ${JSON.stringify(armed ?? null)};
    for (let n = 1; n <= ${passes}; n += 1) {
      process.stdout.write('pass ' + n + '\\n');
      for (const name of all) if (name !== armed) points.reach(name);
      if (armed) points.reach(armed);
    }
    process.stdout.write('done\\n');
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '--eval', script], { encoding: 'utf8', timeout: 20_000 });
  const lines = result.stdout.split('\n').filter(Boolean);
  return { signal: result.signal, status: result.status, stdout: lines, stderr: result.stderr, error: result.error };
}

describe('crash points', () => {
  it('is inert when no point is armed', () => {
    expect(createCrashPoints(undefined)).toBe(noCrashPoints);
    expect(createCrashPoints(undefined, 3)).toBe(noCrashPoints);
    for (const name of ALL_POINTS) expect(noCrashPoints.reach(name)).toBeUndefined();
  });

  it('an unarmed child process passes every point as often as it likes and exits normally', () => {
    const child = runChild(undefined, 0, 5);

    expect(child.error).toBeUndefined();
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    expect(child.stdout).toEqual(['pass 1', 'pass 2', 'pass 3', 'pass 4', 'pass 5', 'done']);
    expect(child.stderr).not.toContain('crash point');
  });

  it.each([
    { point: 'payment.before-charge' as const, skip: 0 },
    { point: 'payment.after-charge' as const, skip: 2 },
    { point: 'order.after-commit' as const, skip: 5 },
  ])('armed at $point with skip $skip: the process dies by SIGKILL exactly on pass skip+1 of that point', ({ point, skip }) => {
    const child = runChild(point, skip, skip + 4);

    expect(child.error).toBeUndefined();
    expect(child.signal).toBe('SIGKILL');
    expect(child.status).toBeNull();
    // The other points, reached on every pass before the armed one, never fired.
    expect(child.stdout).toEqual(Array.from({ length: skip + 1 }, (_, i) => `pass ${i + 1}`));
    expect(child.stderr).toContain(`crash point ${point} reached: SIGKILL\n`);
    expect(child.stderr.match(/crash point/g)).toHaveLength(1);
  });

  it('lets the process run to its end when the skip count is never used up', () => {
    const child = runChild('payment.after-charge', 3, 3);

    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    expect(child.stdout.at(-1)).toBe('done');
    expect(child.stderr).not.toContain('crash point');
  });
});
