import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { cheapProducts, demoToken, eventually, FOLLOW_ORDER, generateJwtKey, gql, PLACE_ORDER, startGateway, UPDATE_STATUS, wsClient, type Gateway } from './support/gateway.ts';
import { startPrivateRedis, type PrivateRedis } from './support/redis-server.ts';

// Several stateless instances on one PostgreSQL, with Redis carrying order events between them:
// real processes on loopback. The shared Redis (CI: 127.0.0.1:6379) carries the first part; the
// restart test runs its own redis-server, so restarting it disturbs nothing else.
const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * `npm test` passes on a machine with no services (issue #2): without a Redis server these tests
 * are skipped, with a note, except under CI, where the machine has Redis and nothing may be skipped.
 */
const redisReady = await redisAvailable(SHARED_REDIS_URL);
const describeWithRedis = process.env.CI || redisReady ? describe : describe.skip;
if (!redisReady && !process.env.CI) console.warn(`scale-out tests skipped: no Redis at ${SHARED_REDIS_URL} or no redis-server binary (they run under CI)`);

async function redisAvailable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
  return reachable && spawnSync('redis-server', ['--version']).status === 0;
}
const ORDERS = 5;

interface Received {
  readonly orderId: string;
  readonly version: number;
  readonly to: string;
  readonly at: number;
}

let db: TestDatabase;
const jwtKey = generateJwtKey();
const gateways: Gateway[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await Promise.all(gateways.map((g) => g.stop(5_000)));
  await db?.close();
});

async function startInstance(redisUrl: string, seed: boolean): Promise<Gateway> {
  const gateway = await startGateway({
    DATABASE_URL: db.url,
    DB_POOL_MAX: String(db.poolMax),
    JWT_PRIVATE_KEY: jwtKey,
    REDIS_URL: redisUrl,
    SEED_DEMO_DATA: String(seed),
    ORDER_LOG_POLL_MS: '100',
  });
  gateways.push(gateway);
  await eventually(async () => (await fetch(`${gateway.origin}/ready`)).status === 200, 15_000, 100, 'the instance to be ready');
  return gateway;
}

/** Subscribes on `gateway` and records every event with its arrival time. */
function follow(gateway: Gateway, token: string, variables: Record<string, unknown>, into: Received[]): void {
  const client = wsClient(gateway.url, token);
  clients.push(client);
  client.subscribe<{ orderStatusChanged: { version: number; to: string; order: { id: string } } }>(
    { query: FOLLOW_ORDER, variables },
    {
      next: (value) => {
        const change = value.data?.orderStatusChanged;
        if (change) into.push({ orderId: change.order.id, version: change.version, to: change.to, at: performance.now() });
      },
      error: () => {},
      complete: () => {},
    },
  );
}

const versionsOf = (events: readonly Received[], orderId: string) => events.filter((e) => e.orderId === orderId).map((e) => e.version);

async function placeOrders(gateway: Gateway, token: string, count: number): Promise<string[]> {
  const products = await cheapProducts(gateway.url);
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const { body } = await gql<{ placeOrder: { __typename: string; order: { id: string; status: string } } }>(gateway.url, PLACE_ORDER, {
      input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId: products[i % products.length], quantity: 1 }] },
    }, { token });
    expect(body.data?.placeOrder).toMatchObject({ __typename: 'PlaceOrderSuccess', order: { status: 'PAID' } });
    ids.push(body.data!.placeOrder.order.id);
  }
  return ids;
}

async function transition(gateway: Gateway, adminToken: string, orderId: string, status: string, expectedVersion: number): Promise<void> {
  const { body } = await gql<{ updateOrderStatus: { __typename: string } }>(gateway.url, UPDATE_STATUS, { input: { orderId, status, expectedVersion } }, { token: adminToken });
  expect(body.data?.updateOrderStatus.__typename, JSON.stringify(body)).toBe('UpdateOrderStatusSuccess');
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

describeWithRedis('two instances sharing PostgreSQL and Redis', () => {
  it('delivers to a subscriber on instance B, live, in order and without gaps, every change made through instance A', async () => {
    const a = await startInstance(SHARED_REDIS_URL, true);
    const b = await startInstance(SHARED_REDIS_URL, false);
    const admin = await demoToken(a.url, 'admin');
    const customer = await demoToken(a.url, 'premium');

    // The all-orders stream is live only: whatever it gets came through Redis, not from the history.
    const live: Received[] = [];
    follow(b, admin, {}, live);
    await eventually(async () => (await (await fetch(`${b.origin}/metrics`)).text()).includes('ordergraph_graphql_active_subscriptions 1'), 10_000, 50, 'the subscription on B');

    const started = new Map<string, number>();
    const orderIds = await placeOrders(a, customer, ORDERS);
    for (const orderId of orderIds) {
      for (const [status, expectedVersion] of [['SHIPPED', 2], ['DELIVERED', 3]] as const) {
        started.set(`${orderId}:${expectedVersion + 1}`, performance.now());
        await transition(a, admin, orderId, status, expectedVersion);
      }
    }
    await eventually(() => live.length >= ORDERS * 4, 15_000, 50, `${ORDERS * 4} events on B (got ${live.length})`);
    for (const orderId of orderIds) expect(versionsOf(live, orderId)).toEqual([1, 2, 3, 4]);
    expect(live.length).toBe(ORDERS * 4);

    const latencies = live.filter((e) => started.has(`${e.orderId}:${e.version}`)).map((e) => e.at - started.get(`${e.orderId}:${e.version}`)!);
    console.info(
      `cross-instance delivery: ${live.length}/${ORDERS * 4} events of ${ORDERS} orders made on A arrived on B in order, no gap, no duplicate; ` +
        `mutation start → arrival on B: median ${Math.round(median(latencies))} ms, max ${Math.round(Math.max(...latencies))} ms (n=${latencies.length})`,
    );
    await Promise.all([a.stop(), b.stop()]);
  }, 120_000);
});

describeWithRedis('Redis restarting mid-run', () => {
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('loses nothing: subscribers on B recover and resume fills any gap, readiness reports Redis down as degraded while it is', async () => {
    const a = await startInstance(redis.url, false);
    const b = await startInstance(redis.url, false);
    const admin = await demoToken(a.url, 'admin');
    const customer = await demoToken(a.url, 'premium');
    const orderIds = await placeOrders(a, customer, 4);

    // One resumable subscriber per order on B (afterVersion: replay, then live).
    const received: Received[] = [];
    for (const orderId of orderIds) follow(b, customer, { orderId, afterVersion: 0 }, received);
    await eventually(() => orderIds.every((id) => versionsOf(received, id).length === 2), 10_000, 50, 'the replayed history on B');

    await transition(a, admin, orderIds[0]!, 'SHIPPED', 2);
    await transition(a, admin, orderIds[1]!, 'SHIPPED', 2);
    await eventually(() => versionsOf(received, orderIds[1]!).length === 3, 10_000, 50, 'live events before the restart');

    await redis.stop();
    // Redis is only the doorbell: both instances stay ready (200), reported as degraded.
    const readiness = async (origin: string) => {
      const response = await fetch(`${origin}/ready`);
      return { status: response.status, body: (await response.json()) as { status: string; checks: Record<string, string> } };
    };
    await eventually(async () => (await readiness(a.origin)).body.status === 'degraded', 10_000, 100, 'A to report Redis down');
    await eventually(async () => (await readiness(b.origin)).body.status === 'degraded', 10_000, 100, 'B to report Redis down');
    expect(await readiness(b.origin)).toEqual({ status: 200, body: { status: 'degraded', checks: { database: 'up', redis: 'down' } } });
    // Changes keep committing while Redis is away; their live events may be lost.
    await transition(a, admin, orderIds[2]!, 'SHIPPED', 2);
    await transition(a, admin, orderIds[3]!, 'SHIPPED', 2);
    await redis.start();
    await eventually(async () => (await readiness(a.origin)).body.status === 'ready' && (await readiness(b.origin)).body.status === 'ready', 20_000, 100, 'both instances ready again');

    for (const orderId of orderIds) await transition(a, admin, orderId, 'DELIVERED', 3);
    await eventually(() => orderIds.every((id) => versionsOf(received, id).length >= 4), 15_000, 50, 'every order to reach version 4 on B');
    for (const orderId of orderIds) expect(versionsOf(received, orderId)).toEqual([1, 2, 3, 4]);
    const livePastOutage = orderIds.slice(2).map((id) => received.find((e) => e.orderId === id && e.version === 3)!);
    console.info(
      `redis restart: ${orderIds.length} orders × 4 versions all on B in order after the restart (${received.length} events); ` +
        `the 2 changes made during the outage reached B ${livePastOutage.map((e) => (e ? 'yes' : 'no')).join('/')}`,
    );
  }, 120_000);
});
