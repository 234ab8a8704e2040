import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { CreateProductDocument, PlaceOrderDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { eventually, within } from '../support/eventually.ts';
import { untilActiveSubscriptions } from '../support/metrics.ts';

/**
 * A graphql-ws client that stops reading is closed with 4008 once its unsent bytes pass
 * WS_SEND_BUFFER_BYTES, the close reason carries the cursor of the last event written to it, and
 * resuming from that cursor loses nothing and repeats nothing (issue 14; src/graphql/ws-lifecycle.ts).
 * Before, such a socket was cut by keep-alive (1006) and the events in flight were lost.
 */

const SEND_BUFFER_BYTES = 64 * 1024;
/** Lines per order (the most an order may have), each a product with a 2,000-character description. */
const LINES = 50;
/**
 * Each event selects the order's lines and their products' descriptions five times (the alias
 * limit): ~500 KB a frame, so a few orders fill what the kernel absorbs for a client that reads
 * nothing (~4 MB on loopback) and then the send buffer, well before keep-alive (12 s + 12 s) would.
 */
const HEAVY = `subscription Heavy {
  orderStatusChanged {
    version
    order { id }
    a: order { lines { product { description } } }
    b: order { lines { product { description } } }
    c: order { lines { product { description } } }
    d: order { lines { product { description } } }
    e: order { lines { product { description } } }
  }
}`;
const RESUME = 'subscription Resume($after: String) { orderStatusChanged(after: $after) { version order { id } } }';

interface Change {
  readonly orderId: string;
  readonly version: number;
}
const key = (change: Change) => `${change.orderId}#${change.version}`;

let app: TestApp;
let customer: string;
let productIds: string[];

beforeAll(async () => {
  app = await startTestApp({ env: { WS_SEND_BUFFER_BYTES: String(SEND_BUFFER_BYTES) } });
  customer = await app.demoToken('basic');
  const admin = await app.demoToken('admin');
  productIds = [];
  for (let i = 0; i < LINES; i++) {
    const created = await app.execute(
      CreateProductDocument,
      { input: { sku: `SLOW-${i}`, name: `Long description ${i}`, description: 'd'.repeat(2_000), price: '0.10', stock: 1_000 } },
      { token: admin },
    );
    if (created.data?.createProduct.__typename !== 'CreateProductSuccess') throw new Error(JSON.stringify(created));
    productIds.push(created.data.createProduct.product.id);
  }
});
afterAll(() => app?.stop());

/** Places an order of every product; returns the changes it committed (its audit trail). */
async function placeOrder(): Promise<Change[]> {
  const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: crypto.randomUUID(), lines: productIds.map((productId) => ({ productId, quantity: 1 })) } }, { token: customer });
  if (placed.data?.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
  const { order } = placed.data.placeOrder;
  return order.statusHistory.map((entry) => ({ orderId: order.id, version: entry.version }));
}

/** `ordergraph_websocket_slow_consumer_closes_total` on /metrics. */
async function slowConsumerCloses(): Promise<number> {
  const text = await (await fetch(new URL('/metrics', app.running.url))).text();
  return Number(/^ordergraph_websocket_slow_consumer_closes_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

describe('configuration', () => {
  it('WS_SEND_BUFFER_BYTES defaults to 256 KiB and refuses less than 1 KiB', () => {
    expect(loadConfig({}).security.ws.sendBufferBytes).toBe(256 * 1024);
    expect(loadConfig({ WS_SEND_BUFFER_BYTES: '1048576' }).security.ws.sendBufferBytes).toBe(1_048_576);
    expect(() => loadConfig({ WS_SEND_BUFFER_BYTES: '1000' })).toThrow(/WS_SEND_BUFFER_BYTES/);
  });
});

describe('a client that stops reading', () => {
  it('is closed with 4008 and the cursor of the last event written to it; resuming after that cursor loses and repeats nothing', async () => {
    // A raw client, so that it can stop reading: ws's pause() stops taking bytes off the TCP socket.
    const socket = new WebSocket(app.running.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const received: { id?: string; type: string; payload?: { data?: { orderStatusChanged: { version: number; order: { id: string } } }; extensions?: Record<string, unknown> } }[] = [];
    socket.on('message', (data) => void received.push(JSON.parse(String(data))));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${customer}` } }));
    await eventually(() => received.some((m) => m.type === 'connection_ack'), { what: 'connection_ack' });
    const before = await slowConsumerCloses();
    socket.send(JSON.stringify({ id: 'heavy', type: 'subscribe', payload: { query: HEAVY } }));
    await untilActiveSubscriptions(app.running.url, 1);

    socket.pause();
    const committed: Change[] = [];
    // Orders until the server has closed the socket (each adds ~1 MB of frames for it).
    await eventually(
      async () => {
        committed.push(...(await placeOrder()));
        return (await slowConsumerCloses()) === before + 1;
      },
      { timeoutMs: 20_000, intervalMs: 0, what: 'the slow consumer to be closed' },
    );
    // Committed after the close: reached only by resuming.
    committed.push(...(await placeOrder()));

    socket.resume();
    const close = await within(closed, 30_000, 'the close frame to reach the client');
    expect(close.code).toBe(4008);
    const hint = JSON.parse(close.reason) as { cursor?: unknown };
    const events = received.filter((m) => m.id === 'heavy' && m.type === 'next');
    expect(events.length).toBeGreaterThan(0);
    // Every frame written before the close arrives before it: the reason names the last one.
    expect(typeof hint.cursor).toBe('string');
    expect(hint.cursor).toBe(events.at(-1)!.payload!.extensions!.cursor);
    const delivered = events.map((m) => ({ orderId: m.payload!.data!.orderStatusChanged.order.id, version: m.payload!.data!.orderStatusChanged.version }));
    expect(delivered.length).toBeLessThan(committed.length);

    const client = createClient({ url: app.running.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${customer}` } });
    const resumed: Change[] = [];
    const missing = () => committed.length - delivered.length - resumed.length;
    const stop = client.subscribe<{ orderStatusChanged: { version: number; order: { id: string } } }>(
      { query: RESUME, variables: { after: hint.cursor } },
      { next: ({ data }) => void resumed.push({ orderId: data!.orderStatusChanged.order.id, version: data!.orderStatusChanged.version }), error: () => undefined, complete: () => undefined },
    );
    try {
      await eventually(() => missing() <= 0, { timeoutMs: 15_000, what: 'every committed change on the resumed stream' });
      const all = [...delivered, ...resumed].map(key);
      expect(new Set(all).size).toBe(all.length);
      expect(all.toSorted()).toEqual(committed.map(key).toSorted());
      console.info(
        `slow consumer: closed 4008 after ${delivered.length} of ${committed.length} changes (${received.reduce((n, m) => n + JSON.stringify(m).length, 0)} bytes of frames) were written to it; ${resumed.length} more on the resumed stream, 0 lost, 0 twice`,
      );
    } finally {
      stop();
      await client.dispose();
    }
  }, 90_000);
});
