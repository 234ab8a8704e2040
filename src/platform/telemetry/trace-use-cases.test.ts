import { describe, expect, it } from 'vitest';
import { err, ok } from '../result.ts';
import { traceUseCases } from './tracing.ts';

/** A module API whose use cases succeed, fail as data, or throw. */
const api = () => ({
  find: async (id: string) => ok(`found ${id}`),
  refuse: async () => err({ code: 'NOT_ALLOWED' }),
  crash: async () => {
    throw new Error('boom');
  },
  limit: 5,
});

describe('traceUseCases (the use-case span decorator)', () => {
  it('passes arguments and results through, and counts each expected failure by use case and code', async () => {
    const failures: string[] = [];
    const traced = traceUseCases('shop', api(), (useCase, code) => failures.push(`${useCase} ${code}`));
    await expect(traced.find('a1')).resolves.toEqual(ok('found a1'));
    await expect(traced.refuse()).resolves.toEqual(err({ code: 'NOT_ALLOWED' }));
    expect(failures).toEqual(['shop.refuse NOT_ALLOWED']);
  });

  it('rethrows an unexpected error unchanged and counts no failure', async () => {
    const failures: string[] = [];
    const traced = traceUseCases('shop', api(), (useCase, code) => failures.push(`${useCase} ${code}`));
    await expect(traced.crash()).rejects.toThrow('boom');
    expect(failures).toEqual([]);
  });

  it('wraps each use case once per decorated API, and each API on its own', async () => {
    const observer = () => {};
    const one = traceUseCases('shop', api(), observer);
    const two = traceUseCases('shop', api(), observer);
    expect(one.find).toBe(one.find);
    expect(one.find).not.toBe(two.find);
    expect(one.limit).toBe(5);
  });

  it('reports to the observer of the application that decorated it', async () => {
    const first: string[] = [];
    const second: string[] = [];
    await traceUseCases('shop', api(), (u, c) => first.push(`${u} ${c}`)).refuse();
    await traceUseCases('shop', api(), (u, c) => second.push(`${u} ${c}`)).refuse();
    expect(first).toEqual(['shop.refuse NOT_ALLOWED']);
    expect(second).toEqual(['shop.refuse NOT_ALLOWED']);
  });
});
