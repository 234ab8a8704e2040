import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEY_FILE, JoseTokenService } from '../../src/modules/customers/module.ts';
import { PlaceOrderDocument, ProductsDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { eventually } from '../support/eventually.ts';
import { untilActiveSubscriptions } from '../support/metrics.ts';

/**
 * A graphql-ws client renews its access token in band, before it expires, with a ping whose
 * payload is `{ authorization: 'Bearer <new token>' }` (README, "Reconnects, deploys and slow
 * connections"): the socket and its subscriptions stay open past the first token's expiry and
 * close at the new one's; a token for another viewer closes the socket with 4403; without a
 * renewal the socket closes at expiry as before (issue 14).
 */

const FOLLOW = 'subscription { orderStatusChanged { version order { id } } }';
const EXPIRED = { code: 4403, reason: 'Forbidden: access token expired' };
/** Timers and Date.now() may disagree by a millisecond or so. */
const CLOCK_SLACK_MS = 20;
const REFUSED = { code: 4403, reason: 'Forbidden: renewal token invalid, expired or for another viewer' };

let app: TestApp;
let wsUrl: string;
let signer: (ttlSeconds: number, claims: { customerId: string; role: 'CUSTOMER' | 'ADMIN' }) => Promise<{ token: string; validUntil: number }>;
let me: string;
let productId: string;
const clients: Client[] = [];

beforeAll(async () => {
  app = await startTestApp();
  wsUrl = app.running.url.replace(/^http/, 'ws');
  const pem = await readFile(join(app.config.dataDir, DEV_KEY_FILE), 'utf8');
  const { issuer, audience } = app.config.auth;
  // The server's own key and claims, with lifetimes of a few seconds.
  signer = async (ttlSeconds, claims) => {
    const service = await JoseTokenService.fromPkcs8(pem, { issuer, audience, ttlSeconds });
    const token = (await service.issue(claims)).accessToken;
    const verified = await service.authenticate(token);
    return { token, validUntil: verified!.validUntil.getTime() };
  };
  const basic = await app.demoToken('basic');
  me = (JSON.parse(Buffer.from(basic.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
  const products = await app.execute(ProductsDocument, { first: 1, filter: { search: 'PEN-GEL' } }, {});
  productId = products.data!.products.edges[0]!.node.id;
});
afterEach(async () => {
  for (const client of clients.splice(0)) await client.dispose();
  await untilActiveSubscriptions(app.running.url, 0);
});
afterAll(() => app?.stop());

interface Watched {
  readonly client: Client;
  readonly events: string[];
  readonly closes: { code: number; reason: string; at: number }[];
  readonly pongs: unknown[];
  /** Sends a graphql-ws ping with `payload` on the client's socket, as the README shows. */
  ping(payload: unknown): void;
}

/** A graphql-ws client signed in with `token`, following every order of its customer; it does not reconnect. */
async function follow(token: string): Promise<Watched> {
  let socket: WebSocket | undefined;
  const watched: Watched = {
    events: [],
    closes: [],
    pongs: [],
    ping: (payload) => socket!.send(JSON.stringify({ type: 'ping', payload })),
    client: createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
      on: {
        connected: (connected) => void (socket = connected as WebSocket),
        pong: (received, payload) => void (received && watched.pongs.push(payload)),
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: string };
          watched.closes.push({ code, reason, at: Date.now() });
        },
      },
    }),
  };
  clients.push(watched.client);
  watched.client.subscribe<{ orderStatusChanged: { version: number; order: { id: string } } }>(
    { query: FOLLOW },
    { next: ({ data }) => void watched.events.push(`${data!.orderStatusChanged.order.id}#${data!.orderStatusChanged.version}`), error: () => undefined, complete: () => undefined },
  );
  await untilActiveSubscriptions(app.running.url, 1);
  return watched;
}

/** Places an order as `token`'s customer; returns `<order id>#<version>` of its last change. */
async function placeOrder(token: string): Promise<string> {
  const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } }, { token });
  if (placed.data?.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
  return `${placed.data.placeOrder.order.id}#${placed.data.placeOrder.order.version}`;
}

/** The first close of `watched`'s socket, waited for at most `timeoutMs`. */
function closeOf(watched: Watched, timeoutMs: number): Promise<Watched['closes'][number]> {
  return eventually(() => watched.closes[0] ?? false, { timeoutMs, what: 'the socket to close' });
}

/** Waits until the wall clock is past `instant` (ms since the epoch): a token's expiry is a point in time, not an event. */
async function until(instant: number): Promise<void> {
  await eventually(() => Date.now() > instant, { timeoutMs: Math.max(0, instant - Date.now()) + 5_000, intervalMs: 50, what: 'the first token to expire' });
}

describe('renewing the token over the socket', () => {
  it('keeps the socket and its subscription open past the first token’s expiry, and moves the expiry to the new token’s', async () => {
    const first = await signer(1, { customerId: me, role: 'CUSTOMER' });
    const watched = await follow(first.token);
    const renewed = await signer(4, { customerId: me, role: 'CUSTOMER' });
    const payload = { authorization: `Bearer ${renewed.token}` };
    watched.ping(payload);
    // graphql-ws answers a ping with a pong echoing its payload, here once the token is accepted.
    await eventually(() => watched.pongs.length === 1, { what: 'the pong of the renewal' });
    expect(watched.pongs).toEqual([payload]);

    await until(first.validUntil + 500);
    expect(watched.closes).toEqual([]);
    // Still delivering, on the same socket, to the same viewer.
    const change = await placeOrder(renewed.token);
    await eventually(() => watched.events.includes(change), { what: 'the order’s change on the renewed socket' });

    const closed = await closeOf(watched, renewed.validUntil - Date.now() + 10_000);
    expect({ code: closed.code, reason: closed.reason }).toEqual(EXPIRED);
    expect(closed.at).toBeGreaterThanOrEqual(renewed.validUntil - CLOCK_SLACK_MS);
  }, 30_000);

  it('without a renewal the socket closes at the token’s expiry, as before', async () => {
    const first = await signer(1, { customerId: me, role: 'CUSTOMER' });
    const watched = await follow(first.token);
    const closed = await closeOf(watched, first.validUntil - Date.now() + 10_000);
    expect({ code: closed.code, reason: closed.reason }).toEqual(EXPIRED);
    expect(closed.at).toBeGreaterThanOrEqual(first.validUntil - CLOCK_SLACK_MS);
  }, 30_000);

  it('a plain ping (no authorization) is answered and renews nothing', async () => {
    const watched = await follow((await signer(60, { customerId: me, role: 'CUSTOMER' })).token);
    watched.ping({ note: 'keep-alive' });
    await eventually(() => watched.pongs.length === 1, { what: 'the pong' });
    expect(watched.closes).toEqual([]);
  });
});

describe('a renewal the socket may not take closes it with 4403', () => {
  const refusedFor = async (renewal: () => Promise<string>) => {
    const watched = await follow((await signer(60, { customerId: me, role: 'CUSTOMER' })).token);
    watched.ping({ authorization: `Bearer ${await renewal()}` });
    const closed = await closeOf(watched, 10_000);
    return { code: closed.code, reason: closed.reason, pongs: watched.pongs.length };
  };

  it('a token of another customer', async () => {
    expect(await refusedFor(() => app.demoToken('premium'))).toEqual({ ...REFUSED, pongs: 0 });
  });

  it('a token of the same customer with another role', async () => {
    expect(await refusedFor(async () => (await signer(60, { customerId: me, role: 'ADMIN' })).token)).toEqual({ ...REFUSED, pongs: 0 });
  });

  it('a token that does not verify', async () => {
    expect(await refusedFor(async () => `${(await signer(60, { customerId: me, role: 'CUSTOMER' })).token.slice(0, -4)}AAAA`)).toEqual({ ...REFUSED, pongs: 0 });
  });
});
