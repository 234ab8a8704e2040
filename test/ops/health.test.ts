import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { eventually, generateJwtKey, gql, PRODUCTS, startGateway, type Gateway } from './support/gateway.ts';

/** A TCP relay on loopback in front of the database, which the test can cut and restore. */
interface Relay {
  readonly port: number;
  /** Drops every connection and refuses new ones (the database is "unreachable"). */
  cut(): Promise<void>;
  /** Accepts and relays again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

async function startRelay(target: URL): Promise<Relay> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  };
  const cut = async () => {
    const current = server;
    server = undefined;
    const closed = new Promise<void>((resolve) => (current ? current.close(() => resolve()) : resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await listen();
  return { port, cut, restore: listen, close: cut };
}

describe('/health and /ready', () => {
  let db: TestDatabase;
  let relay: Relay;
  let gateway: Gateway;

  beforeAll(async () => {
    db = await createTestDatabase();
    const target = new URL(db.url);
    relay = await startRelay(target);
    const relayed = new URL(db.url);
    relayed.hostname = '127.0.0.1';
    relayed.port = String(relay.port);
    gateway = await startGateway({
      DATABASE_URL: relayed.toString(),
      DB_POOL_MAX: String(db.poolMax),
      JWT_PRIVATE_KEY: generateJwtKey(),
      READINESS_TIMEOUT_MS: '1000',
      // A provider with a circuit breaker (nothing listens on the discard port: it is never called here).
      PAYMENT_PROVIDER: 'http',
      PAYMENT_PROVIDER_URL: 'http://127.0.0.1:9',
      PAYMENT_PROVIDER_SECRET_KEY: 'sk_test_ops_health',
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await relay?.close();
    await db?.close();
  });

  const ready = async () => {
    const response = await fetch(`${gateway.origin}/ready`);
    return { status: response.status, body: (await response.json()) as { status: string; checks: Record<string, string> } };
  };
  const health = async () => (await fetch(`${gateway.origin}/health`)).status;

  it('is ready with the database up', async () => {
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'up' } } });
    expect(await health()).toBe(200);
  });

  it('turns not ready while the database is unreachable, stays alive, and recovers by itself when it returns', async () => {
    await relay.cut();
    await eventually(async () => (await ready()).status === 503, 10_000, 100, '/ready to report the database down');
    expect((await ready()).body).toEqual({ status: 'not ready', checks: { database: 'down' } });
    expect(await health()).toBe(200);
    const failing = await gql(gateway.url, PRODUCTS, { first: 1 });
    expect(failing.body.errors?.length).toBeGreaterThan(0);

    await relay.restore();
    await eventually(async () => (await ready()).status === 200, 15_000, 100, '/ready to recover');
    const served = await gql<{ products: { edges: unknown[] } }>(gateway.url, PRODUCTS, { first: 1 });
    expect(served.body.data?.products.edges).toHaveLength(1);
    expect(await health()).toBe(200);
  });

  it('reports the payment circuit breaker of a provider that has one', async () => {
    const metrics = await (await fetch(`${gateway.origin}/metrics`)).text();
    expect(metrics).toContain('ordergraph_payment_circuit_breaker_state{state="closed"} 1');
    expect(metrics).toContain('ordergraph_payment_circuit_breaker_state{state="open"} 0');
  });
});
