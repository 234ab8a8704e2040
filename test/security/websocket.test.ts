import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEY_FILE, JoseTokenService } from '../../src/modules/customers/module.ts';
import { PlaceOrderDocument, ProductsDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { within } from '../support/eventually.ts';
import { activeSubscriptions, untilActiveSubscriptions } from '../support/metrics.ts';

/** graphql-ws abuse: the spec's close codes, message and subscription caps, token expiry. */

let app: TestApp;
let wsUrl: string;
let token: string;

beforeAll(async () => {
  app = await startTestApp();
  wsUrl = app.running.url.replace(/^http/, 'ws');
  token = await app.demoToken('basic');
});
afterAll(() => app?.stop());

interface RawSocket {
  readonly socket: WebSocket;
  readonly messages: { id?: string; type: string; payload?: unknown }[];
  readonly closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** Resolves with the first message matching, or rejects after `ms`. */
  next(match: (m: { id?: string; type: string; payload?: unknown }) => boolean, ms?: number): Promise<{ id?: string; type: string; payload?: unknown }>;
}

async function open(protocol = 'graphql-transport-ws'): Promise<RawSocket> {
  const socket = protocol ? new WebSocket(wsUrl, protocol) : new WebSocket(wsUrl);
  const messages: RawSocket['messages'] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    messages,
    closed,
    send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
    next: (match, ms = 5_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching message in ${ms} ms: ${JSON.stringify(messages)}`)), ms);
        const check = () => {
          const found = messages.find(match);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          } else waiters.push(check);
        };
        check();
      }),
  };
}

async function acknowledged(params: Record<string, unknown> = { authorization: `Bearer ${token}` }): Promise<RawSocket> {
  const raw = await open();
  raw.send({ type: 'connection_init', payload: params });
  await raw.next((m) => m.type === 'connection_ack');
  return raw;
}

const FOLLOW = 'subscription { orderStatusChanged { version to } }';

describe('graphql-ws protocol abuse gets the protocol’s close codes', () => {
  it('no ConnectionInit within 3 s: 4408', async () => {
    const raw = await open();
    const started = Date.now();
    expect(await raw.closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
  });

  it('a second ConnectionInit: 4429', async () => {
    const raw = await acknowledged();
    raw.send({ type: 'connection_init', payload: {} });
    expect((await raw.closed).code).toBe(4429);
  });

  it('Subscribe before the ack: 4401', async () => {
    const raw = await open();
    raw.send({ id: '1', type: 'subscribe', payload: { query: '{ me { id } }' } });
    expect((await raw.closed).code).toBe(4401);
  });

  it('a second operation under a running id: 4409', async () => {
    const before = await activeSubscriptions(app.running.url);
    const raw = await acknowledged();
    raw.send({ id: 'same', type: 'subscribe', payload: { query: FOLLOW } });
    await untilActiveSubscriptions(app.running.url, before + 1);
    raw.send({ id: 'same', type: 'subscribe', payload: { query: FOLLOW } });
    expect((await raw.closed).code).toBe(4409);
    // The closed socket's subscription is let go, so later tests count from the same gauge.
    await untilActiveSubscriptions(app.running.url, before);
  });

  it('a message that is not a protocol message: 4400', async () => {
    for (const junk of ['not json', '{"type":"subscribe","id":1}', '{"type":"unknown"}', '[]']) {
      const raw = await acknowledged();
      raw.send(junk);
      expect((await raw.closed).code).toBe(4400);
    }
  });

  it('a message over 64 KiB: 1009 (Message Too Big) before it is parsed', async () => {
    const raw = await acknowledged();
    raw.send({ id: 'big', type: 'subscribe', payload: { query: '{ me { id } }', variables: { padding: 'x'.repeat(70_000) } } });
    expect((await raw.closed).code).toBe(1009);
  });

  it('no graphql-transport-ws subprotocol: 4406, and no handshake for another one', async () => {
    const raw = await open('');
    expect((await raw.closed).code).toBe(4406);
    await expect(open('graphql-ws')).rejects.toThrow(/no subprotocol/);
  });

  it('an invalid token at init: 4403', async () => {
    const raw = await open();
    raw.send({ type: 'connection_init', payload: { authorization: 'Bearer not.a.token' } });
    expect((await raw.closed).code).toBe(4403);
  });
});

describe('graphql-ws limits that keep the socket open', () => {
  it('an anonymous subscription is refused when it is created (UNAUTHENTICATED), not when its first event comes', async () => {
    const raw = await acknowledged({});
    raw.send({ id: 'anon', type: 'subscribe', payload: { query: FOLLOW } });
    const reply = await raw.next((m) => m.id === 'anon');
    expect(JSON.stringify(reply.payload)).toContain('UNAUTHENTICATED');
    expect(raw.socket.readyState).toBe(WebSocket.OPEN);
    raw.socket.close(1000);
  });

  it('at most 20 operations at once per socket; the 21st gets TOO_MANY_SUBSCRIPTIONS, and room frees up on complete', async () => {
    const before = await activeSubscriptions(app.running.url);
    const raw = await acknowledged();
    for (let i = 0; i < 20; i++) raw.send({ id: `s${i}`, type: 'subscribe', payload: { query: FOLLOW } });
    await untilActiveSubscriptions(app.running.url, before + 20);
    raw.send({ id: 's20', type: 'subscribe', payload: { query: FOLLOW } });
    const refused = await raw.next((m) => m.id === 's20');
    expect(refused.type).toBe('error');
    expect(JSON.stringify(refused.payload)).toContain('TOO_MANY_SUBSCRIPTIONS');
    raw.send({ id: 's0', type: 'complete' });
    await untilActiveSubscriptions(app.running.url, before + 19);
    raw.send({ id: 's21', type: 'subscribe', payload: { query: '{ me { email } }' } });
    const accepted = await raw.next((m) => m.id === 's21');
    expect(accepted).toMatchObject({ type: 'next', payload: { data: { me: { email: 'basic@ordergraph.dev' } } } });
    expect(raw.socket.readyState).toBe(WebSocket.OPEN);
    raw.socket.close(1000);
    await untilActiveSubscriptions(app.running.url, before);
  });

  it('a document over a limit is an error for that operation, not a closed socket', async () => {
    const raw = await acknowledged();
    raw.send({ id: 'deep', type: 'subscribe', payload: { query: `{ orders { edges { node { customer { orders { edges { node { id } } } } } } } }` } });
    const reply = await raw.next((m) => m.id === 'deep');
    expect(reply.type).toBe('error');
    expect(JSON.stringify(reply.payload)).toContain('GRAPHQL_VALIDATION_FAILED');
    expect(raw.socket.readyState).toBe(WebSocket.OPEN);
    raw.socket.close(1000);
  });
});

describe('a socket lives no longer than its token', () => {
  it('is closed with 4403 when the token expires, and the client reconnects with a fresh token and keeps its subscription', async () => {
    const pem = await readFile(join(app.config.dataDir, DEV_KEY_FILE), 'utf8');
    const { issuer, audience } = app.config.auth;
    // Same key and claims as the server's own tokens, but a 1 s lifetime (accepted up to 5 s later).
    const shortLived = await JoseTokenService.fromPkcs8(pem, { issuer, audience, ttlSeconds: 1 });
    const me = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string };
    const tokens = [(await shortLived.issue({ customerId: me.sub, role: 'CUSTOMER' })).accessToken, token];
    const before = await activeSubscriptions(app.running.url);
    const closes: number[] = [];
    let connects = 0;
    const reconnected = Promise.withResolvers<void>();
    let released: Promise<void> = Promise.resolve();
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 1,
      // Instead of the default back-off of seconds: reconnect once the server has let the expired
      // socket's subscription go, so the gauge awaited below counts the new socket's one only.
      retryWait: () => (released = untilActiveSubscriptions(app.running.url, before)).catch(() => undefined),
      connectionParams: () => ({ authorization: `Bearer ${tokens.shift() ?? token}` }),
      on: { closed: (event) => void closes.push((event as { code: number }).code), connected: () => void (++connects === 2 && reconnected.resolve()) },
    });
    const firstEvent = Promise.withResolvers<unknown>();
    firstEvent.promise.catch(() => undefined); // awaited below; a failure before then must not go unhandled
    const stop = client.subscribe({ query: FOLLOW }, { next: firstEvent.resolve, error: firstEvent.reject, complete: () => undefined });
    try {
      await within(reconnected.promise, 15_000, 'a reconnect after the token expired');
      expect(closes[0]).toBe(4403);
      await released; // the server's hold on the expired socket's subscription, rethrown here
      await untilActiveSubscriptions(app.running.url, before + 1);
      const products = await app.execute(ProductsDocument, { first: 1, filter: { search: 'PEN-GEL' } }, {});
      const placed = await app.execute(
        PlaceOrderDocument,
        { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId: products.data!.products.edges[0]!.node.id, quantity: 1 }] } },
        { token },
      );
      expect(placed.data!.placeOrder.__typename).toBe('PlaceOrderSuccess');
      expect(await within(firstEvent.promise, 5_000, 'the new order’s status change on the resubscribed stream')).toMatchObject({ data: { orderStatusChanged: { version: expect.any(Number) } } });
    } finally {
      stop();
      await client.dispose();
    }
  }, 20_000);
});
