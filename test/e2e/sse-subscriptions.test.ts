import { createClient, NetworkError } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaceOrderDocument, ProductsDocument } from '../generated/operations.ts';
import { eventually } from '../ops/support/gateway.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/**
 * Subscriptions over SSE as their clients send them: GraphiQL (GET with a CSRF header) and
 * graphql-sse's client, in its distinct connections mode (supported) and its single connection
 * mode (refused with a message naming the mode to use).
 */

const FOLLOW = 'subscription Follow { orderStatusChanged { version from to order { id status } } }';

interface FollowEvent {
  data?: { orderStatusChanged: { version: number; from: string | null; to: string; order: { id: string; status: string } } };
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

let app: TestApp;
let token: string;
let productId: string;

beforeAll(async () => {
  app = await startTestApp();
  token = await app.demoToken('enterprise');
  const products = await app.execute(ProductsDocument, { first: 1, filter: { search: 'PLANT-MINI' } }, {});
  productId = products.data!.products.edges[0]!.node.id;
});
afterAll(() => app?.stop());

const activeSubscriptions = async () => {
  const text = await (await fetch(new URL('/metrics', app.running.url))).text();
  return Number(/^ordergraph_graphql_active_subscriptions (\d+)/m.exec(text)?.[1] ?? NaN);
};

async function placeOrder(): Promise<string> {
  const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } }, { token });
  if (placed.data?.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
  return placed.data.placeOrder.order.id;
}

/** Reads `text/event-stream` events (`data:` lines) until `until` holds for one of them. */
async function readEvents(response: Response, until: (event: FollowEvent) => boolean): Promise<FollowEvent[]> {
  const events: FollowEvent[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = message.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).join('\n');
      if (!data) continue;
      const event = JSON.parse(data) as FollowEvent;
      events.push(event);
      if (until(event)) {
        await reader.cancel();
        return events;
      }
    }
  }
}

describe("GraphiQL's subscription request: GET ?query=subscription… with accept: text/event-stream", () => {
  it('streams the order PENDING then PAID when it carries the CSRF header GraphiQL sends', async () => {
    const before = await activeSubscriptions();
    const response = await fetch(`${app.running.url}?query=${encodeURIComponent(FOLLOW)}&operationName=Follow`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}`, 'x-graphql-yoga-csrf': 'graphiql' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    await eventually(async () => (await activeSubscriptions()) === before + 1, 10_000, 50, 'the subscription to start');
    const orderId = await placeOrder();
    const events = await readEvents(response, (event) => event.data?.orderStatusChanged.to === 'PAID');
    expect(events.map((event) => event.data?.orderStatusChanged)).toEqual([
      expect.objectContaining({ version: 1, from: null, to: 'PENDING', order: expect.objectContaining({ id: orderId }) }),
      expect.objectContaining({ version: 2, from: 'PENDING', to: 'PAID', order: { id: orderId, status: 'PAID' } }),
    ]);
  });

  it('is refused without it (as a cross-site EventSource would send it), with 403 and CSRF_HEADER_REQUIRED', async () => {
    const response = await fetch(`${app.running.url}?query=${encodeURIComponent(FOLLOW)}`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` } });
    expect(response.status).toBe(403);
    const [event] = await readEvents(response, () => true);
    expect(event?.errors?.[0]?.extensions?.code).toBe('CSRF_HEADER_REQUIRED');
    expect(event?.errors?.[0]?.message).toMatch(/CSRF header/);
  });
});

describe("graphql-sse's client", () => {
  it('in its distinct connections mode (the default) streams the order PENDING then PAID', async () => {
    const client = createClient({ url: app.running.url, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    try {
      const before = await activeSubscriptions();
      const events = client.iterate<FollowEvent['data']>({ query: FOLLOW });
      const received: FollowEvent[] = [];
      const reading = (async () => {
        for await (const event of events) {
          received.push(event as FollowEvent);
          if ((event as FollowEvent).data?.orderStatusChanged.to === 'PAID') return;
        }
      })();
      await eventually(async () => (await activeSubscriptions()) === before + 1, 10_000, 50, 'the subscription to start');
      const orderId = await placeOrder();
      await reading;
      expect(received.map((event) => [event.data?.orderStatusChanged.order.id, event.data?.orderStatusChanged.to])).toEqual([
        [orderId, 'PENDING'],
        [orderId, 'PAID'],
      ]);
    } finally {
      client.dispose();
    }
  });

  it('in its single connection mode is refused at its first request (PUT) with 405, Allow and a message naming the mode to use', async () => {
    const client = createClient({ url: app.running.url, singleConnection: true, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    try {
      const error = await new Promise<unknown>((resolve) => client.subscribe({ query: FOLLOW }, { next: () => {}, error: resolve, complete: () => resolve(undefined) }));
      expect(error).toBeInstanceOf(NetworkError);
      expect((error as NetworkError).message).toBe('Server responded with 405: Method Not Allowed');
      const response = (error as NetworkError<Response>).response!;
      expect(response.headers.get('allow')).toBe('GET, POST');
      // The client aborts the body it did not read; the same PUT shows what it says.
      const reservation = await fetch(app.running.url, { method: 'PUT', headers: { authorization: `Bearer ${token}` } });
      expect(reservation.status).toBe(405);
      const body = (await reservation.json()) as FollowEvent;
      expect(body.errors?.[0]?.extensions?.code).toBe('SSE_SINGLE_CONNECTION_UNSUPPORTED');
      expect(body.errors?.[0]?.message).toMatch(/distinct connections mode/);
    } finally {
      client.dispose();
    }
  });
});
