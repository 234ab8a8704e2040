import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient } from 'graphql-sse';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEY_FILE, JoseTokenService } from '../../src/modules/customers/module.ts';
import { PlaceOrderDocument, ProductsDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { within } from '../support/eventually.ts';
import { activeSubscriptions, untilActiveSubscriptions } from '../support/metrics.ts';
import { SseReader, sseSubscribe, type SseMessage } from '../support/sse.ts';

/**
 * SSE subscriptions that resume and end with their token (issue 14, ADR 0012), over real HTTP:
 * events carry `id: <cursor>`, a reconnect with `Last-Event-ID` gets exactly the changes it missed,
 * and a stream ends at its token's expiry with a last event saying so.
 */

const FOLLOW = 'subscription Follow { orderStatusChanged { cursor version from to order { id } } }';

interface Change {
  readonly cursor: string | null;
  readonly version: number;
  readonly from: string | null;
  readonly to: string;
  readonly order: { readonly id: string };
}
interface Payload {
  readonly data?: { readonly orderStatusChanged: Change };
  readonly errors?: readonly { readonly message: string; readonly extensions?: Record<string, unknown> }[];
  readonly extensions?: Record<string, unknown>;
}

let app: TestApp;
let mine: string;
let someoneElse: string;
let productId: string;

beforeAll(async () => {
  app = await startTestApp();
  mine = await app.demoToken('enterprise');
  someoneElse = await app.demoToken('basic');
  const products = await app.execute(ProductsDocument, { first: 1, filter: { search: 'PLANT-MINI' } }, {});
  productId = products.data!.products.edges[0]!.node.id;
});
afterAll(() => app?.stop());
// Each test starts with no subscription left from the one before (the gauge is what tests await).
afterEach(() => untilActiveSubscriptions(app.running.url, 0));

async function placeOrder(token: string): Promise<string> {
  const placed = await app.execute(PlaceOrderDocument, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } }, { token });
  if (placed.data?.placeOrder.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(placed));
  return placed.data.placeOrder.order.id;
}

const payloadOf = (message: SseMessage): Payload => JSON.parse(message.data) as Payload;
const changeOf = (message: SseMessage): Change | undefined => (message.event === 'next' ? payloadOf(message).data?.orderStatusChanged : undefined);
const paidOf = (orderId: string) => (message: SseMessage) => changeOf(message)?.order.id === orderId && changeOf(message)?.to === 'PAID';
/** [order, status] of each change event, in stream order. */
const changesOf = (messages: readonly SseMessage[]) => messages.flatMap((m) => (changeOf(m) ? [[changeOf(m)!.order.id, changeOf(m)!.to]] : []));

/** Opens a subscription and waits until the server listens for its events. */
async function follow(token: string, lastEventId?: string): Promise<SseReader> {
  const before = await activeSubscriptions(app.running.url);
  const response = await sseSubscribe(app.running.url, { query: FOLLOW, operationName: 'Follow' }, { token, ...(lastEventId !== undefined ? { lastEventId } : {}) });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  await untilActiveSubscriptions(app.running.url, before + 1);
  return new SseReader(response);
}

describe('SSE event ids', () => {
  it('every change event has `id:` equal to its cursor (the field and extensions.cursor)', async () => {
    const before = await activeSubscriptions(app.running.url);
    const stream = await follow(mine);
    try {
      const orderId = await placeOrder(mine);
      const messages = (await stream.readUntil(paidOf(orderId))).filter((m) => m.event === 'next');
      expect(changesOf(messages)).toEqual([
        [orderId, 'PENDING'],
        [orderId, 'PAID'],
      ]);
      for (const message of messages) {
        expect(message.id).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(message.id).toBe(changeOf(message)!.cursor);
        expect(message.id).toBe(payloadOf(message).extensions?.['cursor']);
      }
      expect(messages[0]!.id).not.toBe(messages[1]!.id);
    } finally {
      await stream.cancel();
    }
  });
});

describe('a reconnect with Last-Event-ID', () => {
  it('gets exactly the changes committed while it was away, in order, then the live ones, and only the viewer’s own', async () => {
    const before = await activeSubscriptions(app.running.url);
    const first = await follow(mine);
    const seen = await placeOrder(mine);
    const received = await first.readUntil(paidOf(seen));
    const lastEventId = received.at(-1)!.id!;
    await first.cancel();
    await untilActiveSubscriptions(app.running.url, before);

    // Committed while no stream was open: two orders of the viewer's, one of another customer's.
    const missed = [await placeOrder(mine), await placeOrder(someoneElse), await placeOrder(mine)];
    const resumed = await follow(mine, lastEventId);
    try {
      const replayed = await resumed.readUntil(paidOf(missed[2]!));
      // Live after the replay: a change committed now follows with no gap and no repeat.
      await placeOrder(someoneElse);
      const live = await placeOrder(mine);
      const after = await resumed.readUntil(paidOf(live));
      const messages = [...replayed, ...after];
      expect(changesOf(messages)).toEqual([
        [missed[0], 'PENDING'],
        [missed[0], 'PAID'],
        [missed[2], 'PENDING'],
        [missed[2], 'PAID'],
        [live, 'PENDING'],
        [live, 'PAID'],
      ]);
      const ids = messages.filter((m) => m.event === 'next').map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).not.toContain(lastEventId);
      for (const message of messages.filter((m) => m.event === 'next')) expect(message.id).toBe(changeOf(message)!.cursor);
    } finally {
      await resumed.cancel();
    }
  });

  it('that is not a cursor is refused with VALIDATION_FAILED (never a silent start from now)', async () => {
    const response = await sseSubscribe(app.running.url, { query: FOLLOW }, { token: mine, lastEventId: 'not-a-cursor' });
    const messages = await new SseReader(response).readToEnd();
    expect(messages.map((m) => m.event)).toEqual(['next', 'complete']);
    expect(payloadOf(messages[0]!).errors?.[0]?.extensions?.['code']).toBe('VALIDATION_FAILED');
  });
});

describe("graphql-sse's client resuming with a `last-event-id` header (README's snippet)", () => {
  it('after its connection drops, gets the changes committed meanwhile, in order, with no repeat', async () => {
    const before = await activeSubscriptions(app.running.url);
    // The README's snippet: the last cursor of each subscription, sent as `last-event-id` on every reconnect.
    const lastCursor = new WeakMap<object, string>();
    // The test's part: a fetch whose response it can cut, and a reconnect it holds until it has committed changes.
    let cut = () => {};
    let reconnect = Promise.withResolvers<void>();
    const client = createClient({
      url: app.running.url,
      headers: (request) => ({ authorization: `Bearer ${mine}`, ...(lastCursor.has(request) ? { 'last-event-id': lastCursor.get(request)! } : {}) }),
      retryAttempts: 1,
      retry: () => reconnect.promise,
      fetchFn: (input: RequestInfo | URL, init?: RequestInit) => {
        const controller = new AbortController();
        init?.signal?.addEventListener('abort', () => controller.abort(init.signal?.reason));
        cut = () => controller.abort(new Error('connection lost'));
        return fetch(input, { ...init, signal: controller.signal });
      },
    });
    const request = { query: FOLLOW };
    const results: Payload[] = [];
    let arrived = () => {};
    const unsubscribe = client.subscribe<Payload['data']>(request, {
      next: (result) => {
        const cursor = (result.extensions as Record<string, unknown> | undefined)?.['cursor'];
        if (typeof cursor === 'string') lastCursor.set(request, cursor);
        results.push(result as Payload);
        arrived();
      },
      error: () => {},
      complete: () => {},
    });
    const paid = (orderId: string) =>
      within(
        new Promise<void>((resolve) => {
          arrived = () => results.some((r) => r.data?.orderStatusChanged.order.id === orderId && r.data.orderStatusChanged.to === 'PAID') && resolve();
          arrived();
        }),
        10_000,
        `${orderId} PAID`,
      );
    try {
      await untilActiveSubscriptions(app.running.url, before + 1);
      const seen = await placeOrder(mine);
      await paid(seen);
      cut();
      await untilActiveSubscriptions(app.running.url, before);
      const missed = [await placeOrder(mine), await placeOrder(mine)];
      reconnect.resolve();
      await paid(missed[1]!);
      const live = await placeOrder(mine);
      await paid(live);
      expect(results.map((r) => [r.data?.orderStatusChanged.order.id, r.data?.orderStatusChanged.to])).toEqual(
        [seen, ...missed, live].flatMap((id) => [
          [id, 'PENDING'],
          [id, 'PAID'],
        ]),
      );
    } finally {
      unsubscribe();
      client.dispose();
    }
  });
});

describe('an SSE stream lives no longer than its token', () => {
  /** A token of the `mine` customer, accepted for `ttlSeconds` + the server's 5 s clock tolerance. */
  async function shortLivedToken(ttlSeconds: number): Promise<{ token: string; validUntil: number }> {
    const pem = await readFile(join(app.config.dataDir, DEV_KEY_FILE), 'utf8');
    const { issuer, audience } = app.config.auth;
    const service = await JoseTokenService.fromPkcs8(pem, { issuer, audience, ttlSeconds });
    const me = JSON.parse(Buffer.from(mine.split('.')[1]!, 'base64url').toString()) as { sub: string };
    const token = (await service.issue({ customerId: me.sub, role: 'CUSTOMER' })).accessToken;
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
    return { token, validUntil: (exp + 5) * 1_000 };
  }

  it('ends at expiry with a `next` carrying TOKEN_EXPIRED and the last cursor, then `complete`; graphql-sse’s client completes', async () => {
    const before = await activeSubscriptions(app.running.url);
    const { token, validUntil } = await shortLivedToken(2);
    const raw = await follow(token);
    // graphql-sse's client on the same token: the final result reaches the application, then completion (no retry).
    const client = createClient({ url: app.running.url, headers: { authorization: `Bearer ${token}` }, retryAttempts: 3 });
    const results: Payload[] = [];
    const completed = new Promise<void>((resolve, reject) =>
      client.subscribe<Payload['data']>({ query: FOLLOW }, { next: (value) => void results.push(value as Payload), error: reject, complete: resolve }),
    );
    try {
      await untilActiveSubscriptions(app.running.url, before + 2);
      const orderId = await placeOrder(mine);
      const events = await raw.readUntil(paidOf(orderId));
      const tail = await raw.readToEnd(30_000);
      expect(Date.now()).toBeGreaterThanOrEqual(validUntil - 1_000);
      expect(tail.map((m) => m.event)).toEqual(['next', 'complete']);
      expect(tail[0]!.id).toBeUndefined();
      expect(payloadOf(tail[0]!)).toEqual({
        errors: [{ message: expect.stringMatching(/expired/), extensions: { code: 'TOKEN_EXPIRED', cursor: events.at(-1)!.id, version: 2 } }],
      });
      await within(completed, 10_000, "graphql-sse's client to complete");
      expect(results.map((r) => r.data?.orderStatusChanged.to ?? r.errors?.[0]?.extensions?.['code'])).toEqual(['PENDING', 'PAID', 'TOKEN_EXPIRED']);
      // Both streams let their subscriptions go (before the client disconnects below).
      await untilActiveSubscriptions(app.running.url, before);
    } finally {
      await raw.cancel().catch(() => undefined);
      client.dispose();
    }
  }, 40_000);
});

describe('at shutdown, SSE streams are handed off, not completed', () => {
  it('each gets `retry:` within SHUTDOWN_RECONNECT_SPREAD_MS and ends without `complete`; graphql-sse’s client retries', async () => {
    const stopping = await startTestApp({ env: { SHUTDOWN_RECONNECT_SPREAD_MS: '3000' } });
    let stopped = false;
    try {
      const token = await stopping.demoToken('enterprise');
      const response = await sseSubscribe(stopping.running.url, { query: FOLLOW }, { token });
      const raw = new SseReader(response);
      const outcome = Promise.withResolvers<'completed' | 'failed'>();
      let retries = 0;
      const client = createClient({
        url: stopping.running.url,
        headers: { authorization: `Bearer ${token}` },
        retryAttempts: 1,
        retry: async () => void (retries += 1),
      });
      client.subscribe({ query: FOLLOW }, { next: () => {}, error: () => outcome.resolve('failed'), complete: () => outcome.resolve('completed') });
      await untilActiveSubscriptions(stopping.running.url, 2);
      await stopping.stop();
      stopped = true;
      const messages = await raw.readToEnd();
      expect(messages.map((m) => m.event)).not.toContain('complete');
      expect(raw.reconnectionTimeMs).toBeGreaterThanOrEqual(0);
      expect(raw.reconnectionTimeMs).toBeLessThan(3000);
      // It retried (against the stopped instance, so the retry failed) instead of completing.
      expect(await within(outcome.promise, 10_000, "graphql-sse's client to give up")).toBe('failed');
      expect(retries).toBe(1);
      client.dispose();
    } finally {
      if (!stopped) await stopping.stop();
    }
  }, 40_000);
});
