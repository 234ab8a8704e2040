import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestApp } from '../support/app.ts';
import { eventually } from '../support/eventually.ts';
import { untilActiveSubscriptions } from '../support/metrics.ts';
import { countWhere } from '../payments/support.ts';
import { cheapProducts, demoToken, FOLLOW_ORDER, generateJwtKey, gql, PLACE_ORDER, startGateway, wsClient, type Gateway } from './support/gateway.ts';

/** Grace given to the gateway; the bound for "exit within the grace". */
const GRACE_MS = 10_000;
/** Simulated payment latency: long enough for the orders to be in flight when SIGTERM arrives. */
const PAYMENT_LATENCY_MS = 1_500;
const IN_FLIGHT = 6;
const SOCKETS = 3;

/** Resolves with the error code of a fresh connection (no keep-alive reuse), or 'connected'. */
function freshConnection(origin: string): Promise<string> {
  return new Promise((resolve) => {
    const req = httpRequest(`${origin}/health`, { agent: false }, (res) => {
      res.resume();
      resolve('connected');
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

describe('graceful shutdown under load (SIGTERM)', () => {
  let db: TestDatabase;
  let gateway: Gateway;

  beforeAll(async () => {
    db = await createTestDatabase();
    gateway = await startGateway({
      DATABASE_URL: db.url,
      DB_POOL_MAX: String(db.poolMax),
      JWT_PRIVATE_KEY: generateJwtKey(),
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
      PAYMENT_SIMULATED_LATENCY_MS: String(PAYMENT_LATENCY_MS),
    });
  });

  afterAll(async () => {
    await gateway?.stop(2_000);
    await db?.close();
  });

  it('finishes every in-flight request, closes WebSockets with 1012, refuses new connections and exits 0 within the grace', async () => {
    const token = await demoToken(gateway.url, 'premium');
    const products = await cheapProducts(gateway.url);

    // Subscribers over graphql-ws, and one over SSE, all following every order of the customer.
    const closeCodes: (number | undefined)[] = [];
    const sockets = Array.from({ length: SOCKETS }, () => wsClient(gateway.url, token, { onClosed: (code) => closeCodes.push(code) }));
    for (const socket of sockets) socket.subscribe({ query: FOLLOW_ORDER, variables: {} }, { next: () => {}, error: () => {}, complete: () => {} });
    const sse = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: FOLLOW_ORDER, variables: {} }),
    });
    expect(sse.status).toBe(200);
    const sseDone = sse.text().then(
      () => 'ended',
      () => 'failed',
    );
    await untilActiveSubscriptions(gateway.url, SOCKETS + 1);

    // Requests that have started: orders whose payment takes PAYMENT_LATENCY_MS.
    const started = performance.now();
    const inFlight = Array.from({ length: IN_FLIGHT }, (_, i) =>
      gql<{ placeOrder: { __typename: string; order?: { status: string } } }>(gateway.url, PLACE_ORDER, {
        input: { idempotencyKey: `in-flight-${i}`, lines: [{ productId: products[i % products.length], quantity: 1 }] },
      }, { token }).then(
        ({ response, body }) => ({ ok: response.status === 200 && body.data?.placeOrder.__typename === 'PlaceOrderSuccess', detail: JSON.stringify(body) }),
        (error: unknown) => ({ ok: false, detail: String(error) }),
      ),
    );
    // Each is being served once its order is written (PENDING, then the PAYMENT_LATENCY_MS charge).
    await eventually(async () => (await countWhere(db.url, "select count(*) as n from orders where idempotency_key like 'in-flight-%'")) === IN_FLIGHT, {
      what: `${IN_FLIGHT} orders in flight`,
    });

    const sigterm = performance.now();
    gateway.child.kill('SIGTERM');
    await gateway.waitForLog((l) => l.msg === 'draining: no new connections, finishing in-flight requests', 5_000);
    expect(await freshConnection(gateway.origin)).toBe('ECONNREFUSED');

    const results = await Promise.all(inFlight);
    const { code, signal } = await gateway.exited;
    const exitedAfterMs = performance.now() - sigterm;

    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(closeCodes).toEqual(Array(SOCKETS).fill(1012));
    expect(await sseDone).toBe('ended');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(exitedAfterMs).toBeLessThan(GRACE_MS);
    const drained = gateway.lines.find((l) => l.msg === 'HTTP drained');
    expect(drained).toMatchObject({ clean: true, webSocketsClosed: SOCKETS });
    expect(Number(drained?.inFlightAtStart)).toBeGreaterThanOrEqual(IN_FLIGHT);
    expect(gateway.lines.some((l) => l.msg === 'shutdown complete')).toBe(true);
    // The figures for the closing note.
    console.info(
      `shutdown: ${IN_FLIGHT}/${IN_FLIGHT} in-flight orders completed, ${SOCKETS} WebSockets closed 1012, SSE ended, ` +
        `exit 0 ${Math.round(exitedAfterMs)} ms after SIGTERM (grace ${GRACE_MS} ms; orders started ${Math.round(sigterm - started)} ms before it, drain ${String(drained?.durationMs)} ms)`,
    );
  }, 60_000);
});

describe('readiness while shutting down', () => {
  it('turns /ready false at once while /health stays true and the in-flight request still completes', async () => {
    const app = await startTestApp({ env: { PAYMENT_SIMULATED_LATENCY_MS: '800', SHUTDOWN_GRACE_MS: '5000' } });
    let stopping: Promise<void> | undefined;
    try {
      const ready = await app.running.yoga.fetch('http://localhost/ready');
      expect(ready.status).toBe(200);
      const token = await app.demoToken('basic');
      const [productId] = await cheapProducts(app.running.url);
      const order = gql<{ placeOrder: { __typename: string } }>(app.running.url, PLACE_ORDER, { input: { idempotencyKey: 'in-flight', lines: [{ productId, quantity: 1 }] } }, { token });
      // In flight once its order is written (its payment then takes 800 ms).
      await eventually(async () => (await countWhere(app.db.url, "select count(*) as n from orders where idempotency_key = 'in-flight'")) === 1, { what: 'the order in flight' });
      // The harness's stop: the app's graceful stop, then the test database.
      stopping = app.stop();
      const during = await app.running.yoga.fetch('http://localhost/ready');
      expect(during.status).toBe(503);
      expect(await during.json()).toMatchObject({ status: 'shutting down' });
      expect((await app.running.yoga.fetch('http://localhost/health')).status).toBe(200);
      expect((await order).body.data?.placeOrder.__typename).toBe('PlaceOrderSuccess');
    } finally {
      await (stopping ?? app.stop());
    }
  }, 60_000);
});
