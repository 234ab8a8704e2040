import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const guard = new URL('../scripts/require-node.cjs', import.meta.url).pathname;

function runGuardAs(version: string | undefined) {
  const args = [guard];
  if (version) {
    // Pretend to be another Node version: the guard reads process.versions.node.
    const preload = join(tmpdir(), `fake-node-${version}.cjs`);
    writeFileSync(preload, `Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '${version}' } });`);
    args.unshift('--require', preload);
  }
  return spawnSync(process.execPath, args, { encoding: 'utf8' });
}

describe('scripts/require-node.cjs (runs before npm start/test/migrate/seed)', () => {
  it('lets Node 24 through', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
    expect(runGuardAs(undefined).status).toBe(0);
  });

  it.each(['20.20.2', '22.1.0', '26.0.0'])('stops Node %s with a clear message and no stack trace', (version) => {
    const result = runGuardAs(version);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`Ordergraph needs Node.js 24 LTS, but this is Node.js ${version}`);
    expect(result.stderr).toContain('npm ci');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
