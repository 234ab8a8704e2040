import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { eventually } from '../ops/support/gateway.ts';

/**
 * Idle graphql-ws sockets are closed, and one client address holds a bounded number of sockets
 * (issue 10, item 7; docs/security.md, "WebSockets").
 */

const IDLE_MS = 600;
const PER_ADDRESS = 6;
const IDLE_CLOSE = { code: 4410, reason: `Idle: no operation for ${IDLE_MS} ms` };
const FOLLOW = 'subscription { orderStatusChanged { version to } }';

let app: TestApp;
let wsUrl: string;
let token: string;
const opened: WebSocket[] = [];
/** The app's warnings and errors, one parsed JSON line each. */
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  const logger = createLogger('warn', { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
  app = await startTestApp({ env: { WS_ANONYMOUS_IDLE_MS: String(IDLE_MS), WS_MAX_SOCKETS_PER_ADDRESS: String(PER_ADDRESS) }, app: { logger } });
  wsUrl = app.running.url.replace(/^http/, 'ws');
  token = await app.demoToken('basic');
});
afterAll(() => app?.stop());
afterEach(async () => {
  // Each test starts with none of this address's sockets open (the per-address cap counts them).
  await Promise.all(
    opened.splice(0).map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          socket.once('close', () => resolve());
          socket.terminate();
        }),
    ),
  );
});

interface RawSocket {
  readonly socket: WebSocket;
  readonly closed: Promise<{ code: number; reason: string; at: number }>;
  send(message: unknown): void;
  /** Resolves with the first message matching (rejects after 5 s). */
  next(match: (m: { id?: string; type: string }) => boolean): Promise<{ id?: string; type: string; payload?: unknown }>;
}

/** A raw graphql-transport-ws socket: open, then (unless `params` is null) connection_init and its ack. */
async function rawSocket(params: Record<string, unknown> | null): Promise<RawSocket> {
  const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
  opened.push(socket);
  const messages: { id?: string; type: string; payload?: unknown }[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const wake of waiters) wake();
  });
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason), at: performance.now() })));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const raw: RawSocket = {
    socket,
    closed,
    send: (message) => socket.send(JSON.stringify(message)),
    next: (match) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching message: ${JSON.stringify(messages)}`)), 5_000);
        const check = () => {
          const found = messages.find(match);
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      }),
  };
  if (params) {
    raw.send({ type: 'connection_init', payload: params });
    await raw.next((m) => m.type === 'connection_ack');
  }
  return raw;
}

/** Resolves with `promise`, or rejects after `ms` naming what did not happen. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** The HTTP status of a refused upgrade, or 'open' when the handshake succeeds. */
function upgrade(): Promise<number | 'open'> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      socket.terminate();
    });
    socket.once('open', () => {
      opened.push(socket);
      resolve('open');
    });
    socket.once('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

describe('configuration', () => {
  it('defaults to a 10 s idle limit and 100 sockets per address, and refuses nonsense', () => {
    expect(loadConfig({}).security.ws).toMatchObject({ idleMs: 10_000, maxSocketsPerAddress: 100 });
    expect(loadConfig({ WS_ANONYMOUS_IDLE_MS: '2500', WS_MAX_SOCKETS_PER_ADDRESS: '20000' }).security.ws).toMatchObject({ idleMs: 2_500, maxSocketsPerAddress: 20_000 });
    expect(() => loadConfig({ WS_ANONYMOUS_IDLE_MS: '0' })).toThrow(/WS_ANONYMOUS_IDLE_MS/);
    expect(() => loadConfig({ WS_MAX_SOCKETS_PER_ADDRESS: '0' })).toThrow(/WS_MAX_SOCKETS_PER_ADDRESS/);
  });
});

describe('idle sockets are closed with 4410', () => {
  it('an anonymous graphql-ws client is closed WS_ANONYMOUS_IDLE_MS after its connection_init, with the documented code and reason', async () => {
    const closes: { code: number; reason: string }[] = [];
    let connectedAt = 0;
    const closed = new Promise<number>((resolve) => {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        onNonLazyError: () => undefined,
        on: {
          connected: () => void (connectedAt = performance.now()),
          closed: (event) => {
            const { code, reason } = event as { code: number; reason: string };
            closes.push({ code, reason });
            resolve(performance.now());
            void client.dispose();
          },
        },
      });
    });
    const at = await within(closed, 10_000, 'the idle anonymous socket to be closed');
    expect(closes).toEqual([IDLE_CLOSE]);
    expect(at - connectedAt).toBeGreaterThanOrEqual(IDLE_MS - 100);
  });

  it('a signed-in socket that never runs an operation is closed too', async () => {
    const raw = await rawSocket({ authorization: `Bearer ${token}` });
    const acked = performance.now();
    const closed = await within(raw.closed, 10_000, 'the idle signed-in socket to be closed');
    expect({ code: closed.code, reason: closed.reason }).toEqual(IDLE_CLOSE);
    expect(closed.at - acked).toBeGreaterThanOrEqual(IDLE_MS - 100);
  });

  it('a socket running a subscription stays open; WS_ANONYMOUS_IDLE_MS after the subscription completes it is closed', async () => {
    const subscriber = await rawSocket({ authorization: `Bearer ${token}` });
    subscriber.send({ id: 'follow', type: 'subscribe', payload: { query: FOLLOW } });
    // Two idle sockets opened after it, one after the other, are closed while it stays open.
    for (let i = 0; i < 2; i++) {
      const idle = await rawSocket({});
      expect((await within(idle.closed, 10_000, 'the idle socket to be closed')).code).toBe(IDLE_CLOSE.code);
      expect(subscriber.socket.readyState).toBe(WebSocket.OPEN);
    }
    subscriber.send({ id: 'follow', type: 'complete' });
    const completed = performance.now();
    const closed = await within(subscriber.closed, 10_000, 'the socket to be closed once idle');
    expect({ code: closed.code, reason: closed.reason }).toEqual(IDLE_CLOSE);
    expect(closed.at - completed).toBeGreaterThanOrEqual(IDLE_MS - 100);
  });

  it('a query or mutation counts as activity: the idle time starts again when it completes', async () => {
    const raw = await rawSocket({});
    raw.send({ id: 'q', type: 'subscribe', payload: { query: '{ products(first: 1) { totalCount } }' } });
    await raw.next((m) => m.id === 'q' && m.type === 'complete');
    const completed = performance.now();
    const closed = await within(raw.closed, 10_000, 'the socket to be closed once idle');
    expect(closed.code).toBe(IDLE_CLOSE.code);
    expect(closed.at - completed).toBeGreaterThanOrEqual(IDLE_MS - 100);
  });
});

describe('sockets per client address', () => {
  it(`refuses the upgrade beyond WS_MAX_SOCKETS_PER_ADDRESS with HTTP 429, and admits again once one closes`, async () => {
    const sockets: WebSocket[] = [];
    for (let i = 0; i < PER_ADDRESS; i++) {
      const raw = await rawSocket(null);
      sockets.push(raw.socket);
    }
    expect(await upgrade()).toBe(429);
    expect(await upgrade()).toBe(429);
    // One warning for the episode, not one per refused attempt.
    expect(logLines.filter((l) => l.msg === 'WebSocket upgrades refused: too many sockets from one address')).toEqual([
      expect.objectContaining({ level: 40, clientAddress: '127.0.0.1', limit: PER_ADDRESS }),
    ]);
    sockets[0]!.close(1000);
    // The server counts the socket gone when its TCP connection has closed; the client may see that first.
    await eventually(async () => (await upgrade()) === 'open', 5_000, 50, 'an upgrade to be admitted again');
  });
});
