import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printCurrentSchema } from '../src/cli/print-schema.ts';

describe('schema/schema.graphql', () => {
  it('is exactly what the code prints (run `npm run schema:print` after changing the schema)', () => {
    const committed = readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8');
    expect(printCurrentSchema()).toBe(committed);
  });

  it('never exposes money as a Float', () => {
    expect(printCurrentSchema()).not.toMatch(/\bFloat\b/);
  });
});
