import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { createHealth, readinessStatus, type Health, type ReadinessCheck } from './health.ts';
import { createMetrics } from './metrics.ts';

/** A dependency the test switches up and down; counts how often it was checked. */
function dependency(name: string, critical: boolean, options: { up?: boolean } = {}) {
  let up = options.up ?? true;
  let report: ((up: boolean) => void) | undefined;
  const counts = { checks: 0 };
  const check: ReadinessCheck = {
    name,
    critical,
    check: async () => {
      counts.checks++;
      if (!up) throw new Error(`${name} is down`);
    },
    watch: (r) => {
      report = r;
    },
  };
  return {
    check,
    counts,
    set: (value: boolean) => {
      up = value;
    },
    /** What a client's connection event would tell the health. */
    report: (value: boolean) => report?.(value),
  };
}

/** GET /ready through yoga with the health's plugin, as a probe sees it. */
async function probe(health: Health): Promise<{ status: number; body: unknown }> {
  const yoga = createYoga({ schema: createSchema({ typeDefs: 'type Query { ok: Boolean }' }), plugins: [health.plugin], logging: false });
  const response = await yoga.fetch('http://localhost/ready');
  return { status: response.status, body: await response.json() };
}

describe('readinessStatus', () => {
  it('is ready with every dependency up, degraded with only a non-critical one down, not ready with a critical one down', () => {
    expect(readinessStatus([{ critical: true, state: 'up' }, { critical: false, state: 'up' }], false)).toBe('ready');
    expect(readinessStatus([{ critical: true, state: 'up' }, { critical: false, state: 'down' }], false)).toBe('degraded');
    expect(readinessStatus([{ critical: true, state: 'down' }, { critical: false, state: 'up' }], false)).toBe('not ready');
    expect(readinessStatus([{ critical: true, state: 'down' }, { critical: false, state: 'down' }], false)).toBe('not ready');
    expect(readinessStatus([], false)).toBe('ready');
  });

  it('says shutting down whatever the dependencies say', () => {
    expect(readinessStatus([{ critical: true, state: 'up' }], true)).toBe('shutting down');
    expect(readinessStatus([{ critical: true, state: 'down' }, { critical: false, state: 'down' }], true)).toBe('shutting down');
  });
});

describe('/ready', () => {
  const setUp = () => {
    const health = createHealth({ timeoutMs: 1_000 });
    const database = dependency('database', true);
    const redis = dependency('redis', false);
    health.addCheck(database.check);
    health.addCheck(redis.check);
    return { health, database, redis };
  };

  it('answers 200 ready with every dependency up', async () => {
    const { health } = setUp();
    expect(await probe(health)).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'up', redis: 'up' } } });
  });

  it('answers 200 degraded while a non-critical dependency is down, and ready again once it is back', async () => {
    const { health, redis } = setUp();
    redis.set(false);
    expect(await probe(health)).toEqual({ status: 200, body: { status: 'degraded', checks: { database: 'up', redis: 'down' } } });
    redis.set(true);
    expect(await probe(health)).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'up', redis: 'up' } } });
  });

  it('answers 503 not ready while a critical dependency is down, whatever the others say', async () => {
    const { health, database, redis } = setUp();
    database.set(false);
    expect(await probe(health)).toEqual({ status: 503, body: { status: 'not ready', checks: { database: 'down', redis: 'up' } } });
    redis.set(false);
    expect(await probe(health)).toEqual({ status: 503, body: { status: 'not ready', checks: { database: 'down', redis: 'down' } } });
  });

  it('counts a check that answers false, or not within the timeout, as down', async () => {
    const health = createHealth({ timeoutMs: 50 });
    health.addCheck({ name: 'database', critical: true, check: async () => false });
    health.addCheck({ name: 'redis', critical: false, check: () => new Promise<never>(() => {}) });
    expect(await health.readiness()).toEqual({ status: 'not ready', checks: { database: 'down', redis: 'down' } });
  });

  it('answers 503 shutting down once marked, without probing, with the states last known', async () => {
    const { health, database, redis } = setUp();
    redis.set(false);
    await probe(health);
    const checked = database.counts.checks;
    health.markShuttingDown();
    expect(await probe(health)).toEqual({ status: 503, body: { status: 'shutting down', checks: { database: 'up', redis: 'down' } } });
    expect(database.counts.checks).toBe(checked);
  });

  it('says shutting down when shutdown begins while the checks run', async () => {
    const health = createHealth({ timeoutMs: 1_000 });
    let release!: () => void;
    const started = Promise.withResolvers<void>();
    health.addCheck({
      name: 'database',
      critical: true,
      check: () => {
        started.resolve();
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    const answer = health.readiness();
    await started.promise;
    health.markShuttingDown();
    release();
    expect(await answer).toEqual({ status: 'shutting down', checks: { database: 'up' } });
  });
});

describe('dependency snapshot and metrics', () => {
  it('follows connection events without a probe, and a check does not overwrite an event that came while it ran', async () => {
    const health = createHealth({ timeoutMs: 1_000 });
    health.addCheck(dependency('database', true).check);
    let report!: (up: boolean) => void;
    let release!: () => void;
    const started = Promise.withResolvers<void>();
    let checks = 0;
    health.addCheck({
      name: 'redis',
      critical: false,
      check: () => {
        checks++;
        started.resolve();
        return new Promise<void>((resolve) => (release = resolve));
      },
      watch: (r) => (report = r),
    });
    expect(health.snapshot()).toEqual({ dependencies: {}, degraded: false });

    report(false);
    expect(health.snapshot()).toEqual({ dependencies: { redis: 'down' }, degraded: true });
    expect(checks).toBe(0);

    const answer = health.readiness();
    await started.promise;
    // Redis answers the check (up) after its connection dropped and came back and dropped again.
    report(true);
    report(false);
    release();
    expect(await answer).toEqual({ status: 'ready', checks: { database: 'up', redis: 'up' } });
    expect(health.snapshot()).toEqual({ dependencies: { database: 'up', redis: 'down' }, degraded: true });

    report(true);
    expect(health.snapshot()).toEqual({ dependencies: { database: 'up', redis: 'up' }, degraded: false });
  });

  it('is not degraded while a critical dependency is down too', async () => {
    const health = createHealth({ timeoutMs: 1_000 });
    const database = dependency('database', true, { up: false });
    const redis = dependency('redis', false, { up: false });
    health.addCheck(database.check);
    health.addCheck(redis.check);
    await health.readiness();
    expect(health.snapshot()).toEqual({ dependencies: { database: 'down', redis: 'down' }, degraded: false });
  });

  it('exposes ordergraph_dependency_up per dependency and ordergraph_degraded', async () => {
    const health = createHealth({ timeoutMs: 1_000 });
    const metrics = createMetrics({ enabled: true });
    metrics.sources.dependencies = health.snapshot;
    const database = dependency('database', true);
    const redis = dependency('redis', false);
    health.addCheck(database.check);
    health.addCheck(redis.check);

    const scrape = async () => {
      const text = await metrics.registry.metrics();
      return {
        database: /^ordergraph_dependency_up\{dependency="database"\} (\d)$/m.exec(text)?.[1],
        redis: /^ordergraph_dependency_up\{dependency="redis"\} (\d)$/m.exec(text)?.[1],
        degraded: /^ordergraph_degraded (\d)$/m.exec(text)?.[1],
      };
    };
    expect(await scrape()).toEqual({ database: undefined, redis: undefined, degraded: '0' });

    await health.readiness();
    expect(await scrape()).toEqual({ database: '1', redis: '1', degraded: '0' });

    redis.report(false);
    expect(await scrape()).toEqual({ database: '1', redis: '0', degraded: '1' });

    redis.report(true);
    database.set(false);
    await health.readiness();
    expect(await scrape()).toEqual({ database: '0', redis: '1', degraded: '0' });
  });
});
