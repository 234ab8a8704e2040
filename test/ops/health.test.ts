import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../payments/fake-provider.ts';
import { cheapProducts, demoToken, eventually, generateJwtKey, gql, PLACE_ORDER, PRODUCTS, startGateway, type Gateway } from './support/gateway.ts';
import { startPrivatePostgres, type PrivatePostgres } from './support/postgres-server.ts';
import { startPrivateRedis, type PrivateRedis } from './support/redis-server.ts';

// One gateway on a private PostgreSQL and a private redis-server, both stopped and started again
// mid-test: the shared ones other tests use are never touched.

type Readiness = { status: string; checks: Record<string, string> };

const SECRET_KEY = 'sk_test_ops_health';

describe('/health and /ready per dependency', () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let provider: FakeProvider;
  let gateway: Gateway;

  beforeAll(async () => {
    [postgres, redis, provider] = await Promise.all([startPrivatePostgres(), startPrivateRedis(), startFakeProvider({ secretKey: SECRET_KEY })]);
    gateway = await startGateway({
      DATABASE_URL: postgres.url,
      DB_POOL_MAX: '5',
      REDIS_URL: redis.url,
      JWT_PRIVATE_KEY: generateJwtKey(),
      READINESS_TIMEOUT_MS: '1000',
      // A provider with a circuit breaker.
      PAYMENT_PROVIDER: 'http',
      PAYMENT_PROVIDER_URL: provider.url,
      PAYMENT_PROVIDER_SECRET_KEY: SECRET_KEY,
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await redis?.stop();
    await postgres?.destroy();
    await provider?.stop();
  });

  const ready = async () => {
    const response = await fetch(`${gateway.origin}/ready`);
    return { status: response.status, body: (await response.json()) as Readiness };
  };
  const health = async () => (await fetch(`${gateway.origin}/health`)).status;
  /** The readiness gauges as /metrics shows them now (scraping probes no dependency). */
  const gauges = async () => {
    const text = await (await fetch(`${gateway.origin}/metrics`)).text();
    const value = (pattern: RegExp) => pattern.exec(text)?.[1];
    return {
      database: value(/^ordergraph_dependency_up\{dependency="database"\} (\d)$/m),
      redis: value(/^ordergraph_dependency_up\{dependency="redis"\} (\d)$/m),
      degraded: value(/^ordergraph_degraded (\d)$/m),
    };
  };

  it('is ready with the database and Redis up', async () => {
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'up', redis: 'up' } } });
    expect(await gauges()).toEqual({ database: '1', redis: '1', degraded: '0' });
    expect(await health()).toBe(200);
  });

  it('stays ready but degraded while Redis is down (orders succeed, the gauge follows the connection), and ready again once it is back', async () => {
    const token = await demoToken(gateway.url, 'premium');
    const [productId] = await cheapProducts(gateway.url);
    await redis.stop();
    try {
      // From the connection's events alone: nothing has probed /ready since Redis stopped.
      await eventually(async () => (await gauges()).redis === '0', 10_000, 100, 'the redis gauge to drop to 0');
      expect(await ready()).toEqual({ status: 200, body: { status: 'degraded', checks: { database: 'up', redis: 'down' } } });
      expect(await gauges()).toEqual({ database: '1', redis: '0', degraded: '1' });
      expect(await health()).toBe(200);
      const order = await gql<{ placeOrder: { __typename: string; order?: { status: string } } }>(gateway.url, PLACE_ORDER, { input: { idempotencyKey: 'during-redis-outage', lines: [{ productId, quantity: 1 }] } }, { token });
      expect(order.body.data?.placeOrder).toMatchObject({ __typename: 'PlaceOrderSuccess', order: { status: 'PAID' } });
    } finally {
      await redis.start();
    }
    await eventually(async () => (await gauges()).redis === '1', 15_000, 100, 'the redis gauge to return to 1');
    expect(await gauges()).toEqual({ database: '1', redis: '1', degraded: '0' });
    await eventually(async () => (await ready()).body.status === 'ready', 15_000, 100, '/ready to say ready again');
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'up', redis: 'up' } } });
  });

  it('turns not ready (503) while the database is down, stays alive, and recovers by itself when it is back', async () => {
    // Whatever the tests before left behind (a Redis still reconnecting), start from ready.
    await eventually(async () => (await ready()).body.status === 'ready', 15_000, 100, 'the gateway to be ready before the database stops');
    await postgres.stop();
    try {
      await eventually(async () => (await ready()).status === 503, 10_000, 100, '/ready to report the database down');
      expect((await ready()).body).toEqual({ status: 'not ready', checks: { database: 'down', redis: 'up' } });
      expect(await gauges()).toEqual({ database: '0', redis: '1', degraded: '0' });
      expect(await health()).toBe(200);
      const failing = await gql(gateway.url, PRODUCTS, { first: 1 });
      expect(failing.body.errors?.length).toBeGreaterThan(0);
    } finally {
      await postgres.start();
    }
    await eventually(async () => (await ready()).status === 200, 15_000, 100, '/ready to recover');
    expect((await ready()).body).toEqual({ status: 'ready', checks: { database: 'up', redis: 'up' } });
    expect((await gauges()).database).toBe('1');
    const served = await gql<{ products: { edges: unknown[] } }>(gateway.url, PRODUCTS, { first: 1 });
    expect(served.body.data?.products.edges).toHaveLength(1);
  });

  it('reports the payment circuit breaker of a provider that has one', async () => {
    const metrics = await (await fetch(`${gateway.origin}/metrics`)).text();
    expect(metrics).toContain('ordergraph_payment_circuit_breaker_state{state="closed"} 1');
    expect(metrics).toContain('ordergraph_payment_circuit_breaker_state{state="open"} 0');
  });
});
