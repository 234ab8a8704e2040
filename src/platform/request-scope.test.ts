import type { EntityManager } from '@mikro-orm/postgresql';
import { createContextCache } from '@pothos/core';
import { describe, expect, it } from 'vitest';
import { systemContext } from './op-context.ts';
import { createScopeFactory, releaseScopeParts, type RequestScope } from './request-scope.ts';

/** Two modules whose API records every build; `em` is a stand-in object counted the same way. */
function setUp() {
  const built: string[] = [];
  const em = { fork: 'em' } as unknown as EntityManager;
  const modules = [
    { name: 'alpha', forRequest: (scope: RequestScope) => (built.push('alpha'), { em: scope.em, hello: () => 'alpha' }) },
    { name: 'beta', forRequest: () => (built.push('beta'), { hello: () => 'beta' }) },
  ] as const;
  const fork = () => (built.push('em'), em);
  return { built, em, createScope: createScopeFactory(fork, modules, (name, api) => ({ ...api, decoratedBy: name })) };
}

describe('request scope', () => {
  it('builds nothing until read, then each part once, decorated, over one fork', () => {
    const { built, em, createScope } = setUp();
    const scope = createScope(systemContext('test'));
    expect(built).toEqual([]);

    expect(scope.alpha.hello()).toBe('alpha');
    expect(scope.alpha).toBe(scope.alpha);
    expect(scope.alpha).toMatchObject({ em, decoratedBy: 'alpha' });
    expect(scope.em).toBe(em);
    expect(built).toEqual(['alpha', 'em']);
  });

  it('gives each scope its own parts', () => {
    const { createScope } = setUp();
    const one = createScope(systemContext('one'));
    const two = createScope(systemContext('two'));
    expect(one.beta).not.toBe(two.beta);
    expect(one.op).not.toBe(two.op);
  });

  it('survives yoga merging it into the server context with Object.assign, still lazy', () => {
    const { built, createScope } = setUp();
    const serverContext = { request: 'the request' };
    const scope = createScope(systemContext('test'), { address: '127.0.0.1' }, serverContext);
    const merged = Object.assign(serverContext, scope);

    expect(built).toEqual([]);
    expect(merged).toBe(scope);
    expect(merged.client).toEqual({ address: '127.0.0.1' });
    expect(merged.beta.hello()).toBe('beta');
    expect(built).toEqual(['beta']);
  });

  it('is a plain object: no proxy, and spreading it builds nothing', () => {
    const { built, createScope } = setUp();
    const scope = createScope(systemContext('test'));
    expect(Object.getPrototypeOf(scope)).toBe(Object.prototype);
    expect(Object.keys({ ...scope }).sort()).toEqual(['client', 'op']);
    expect(built).toEqual([]);
  });

  it('lets go of what it built when released, and builds it afresh on the next read', () => {
    const { built, createScope } = setUp();
    const scope = createScope(systemContext('test'));
    const before = scope.alpha;
    releaseScopeParts(scope);
    expect(built).toEqual(['alpha', 'em']);

    expect(scope.alpha).not.toBe(before);
    expect(scope.alpha.hello()).toBe('alpha');
    expect(built).toEqual(['alpha', 'em', 'alpha', 'em']);
  });

  it("drops Pothos' per-context caches (DataLoaders) with its parts, keeping them until then", () => {
    const { createScope } = setUp();
    const scope = createScope(systemContext('test'));
    const loaderOf = createContextCache(() => ({ loader: true }));
    const before = loaderOf(scope);
    expect(loaderOf(scope)).toBe(before);
    releaseScopeParts(scope);
    expect(loaderOf(scope)).not.toBe(before);
  });

  it('ignores objects that are not scopes', () => {
    const other = { alpha: 1 };
    releaseScopeParts(other);
    expect(other).toEqual({ alpha: 1 });
  });
});
