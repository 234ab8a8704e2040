import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { eventually, within } from '../support/eventually.ts';
import { untilActiveSubscriptions } from '../support/metrics.ts';
import { cheapProducts, demoToken, generateJwtKey, gql, PLACE_ORDER, startGateway, type Gateway } from './support/gateway.ts';

/**
 * Deploys hand graphql-ws sockets off (issue 14): on SIGTERM the instance takes no new sockets and
 * closes each open one with 1012 (Service Restart) and a JSON reason carrying a reconnect delay
 * drawn over SHUTDOWN_RECONNECT_SPREAD_MS and the cursor of the last event written to it; a client
 * written as the README shows waits that delay, reconnects (to another instance) and resumes with
 * `after`, losing nothing.
 */

const SPREAD_MS = 4_000;
const PLAIN_CLIENTS = 8;
const FOLLOW = 'subscription Follow($after: String) { orderStatusChanged(after: $after) { version order { id } } }';

interface Close {
  readonly code: number;
  readonly reason: string;
}
interface Hint {
  readonly reconnectInMs?: number;
  readonly cursor?: string;
  readonly version?: number;
}

/** Whether a graphql-ws retry argument is a close event (not an error). */
/** The resume cursor our server puts in a result's extensions. */
const cursorOf = (result: { extensions?: unknown }): unknown => (result.extensions as { cursor?: unknown } | undefined)?.cursor;

const isCloseEvent = (event: unknown): event is Close => typeof event === 'object' && event !== null && 'code' in event && 'reason' in event;

/**
 * The README's client ("Reconnects, deploys and slow connections"): honours the reason of 1012 and
 * 4008 closes, resumes with `after` from the last cursor it received. `url` is called per connect
 * (here: the next instance, as a load balancer would pick it).
 */
function readmeClient(url: () => Promise<string>, token: string, on: { closed: (event: Close) => void; connecting: () => void }) {
  let hint: Hint = {};
  const variables: { after?: string } = {};
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: async () => ({ authorization: `Bearer ${token}` }),
    retryAttempts: Infinity,
    shouldRetry: (event) => {
      if (!isCloseEvent(event)) return false;
      try {
        hint = event.code === 1012 || event.code === 4008 ? (JSON.parse(event.reason) as Hint) : {};
      } catch {
        hint = {};
      }
      return true;
    },
    retryWait: async (retries) => {
      // The server's spread delay on a restart; else exponential back-off with full jitter.
      const ms = hint.reconnectInMs ?? Math.random() * Math.min(30_000, 1_000 * 2 ** retries);
      hint = {};
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
    on: { closed: (event) => on.closed(event as Close), connecting: on.connecting },
  });
  return { client, variables };
}

let db: TestDatabase;
let restarting: Gateway;
let other: Gateway;
let token: string;
let productIds: string[];
const plain: { client: Client; cursors: string[]; closed: Promise<Close> }[] = [];
/** A client on the other instance from the start: it sees changes live, as they commit. */
let witnessClient: Client;
const witness: string[] = [];
/** Settles once the change committed during the README client's absence has been delivered live elsewhere. */
const gapDelivered = Promise.withResolvers<void>();
let readme: { client: Client; variables: { after?: string }; changes: string[]; closes: Close[]; connectingAt: number[]; closedAt: number[] };
/** Changes committed while the restarting instance served, and while the README client was away. */
const committed: string[] = [];
let refusedUpgrade: string;
let exit: { code: number | null; signal: NodeJS.Signals | null };

/** Places an order through `gateway`; returns (and records in `committed`) its changes, `<order id>#<version>`. */
async function placeOrder(gateway: Gateway): Promise<string[]> {
  const { body } = await gql<{ placeOrder: { __typename: string; order?: { id: string; version: number } } }>(
    gateway.url,
    PLACE_ORDER,
    { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId: productIds[0], quantity: 1 }] } },
    { token },
  );
  const order = body.data?.placeOrder.order;
  if (body.data?.placeOrder.__typename !== 'PlaceOrderSuccess' || !order) throw new Error(JSON.stringify(body));
  const changes = Array.from({ length: order.version }, (_, i) => `${order.id}#${i + 1}`);
  committed.push(...changes);
  return changes;
}

/** Resolves with the outcome of a WebSocket upgrade to `url`: 'open' or the error's code. */
function upgrade(url: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    socket.once('open', () => {
      socket.terminate();
      resolve('open');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  const env = { DATABASE_URL: db.url, DB_POOL_MAX: String(db.poolMax), JWT_PRIVATE_KEY: generateJwtKey(), SHUTDOWN_RECONNECT_SPREAD_MS: String(SPREAD_MS) };
  // One after the other: the first migrates and seeds the database.
  restarting = await startGateway(env);
  other = await startGateway({ ...env, SEED_DEMO_DATA: 'false' });
  token = await demoToken(restarting.url, 'basic');
  productIds = await cheapProducts(restarting.url);

  // Plain graphql-ws clients that record their close, and one written as the README shows.
  for (let i = 0; i < PLAIN_CLIENTS; i++) {
    const closed = Promise.withResolvers<Close>();
    const client = createClient({
      url: restarting.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
      on: { closed: (event) => closed.resolve(event as Close) },
    });
    const cursors: string[] = [];
    client.subscribe({ query: FOLLOW }, { next: (result) => void cursors.push(String(cursorOf(result))), error: () => undefined, complete: () => undefined });
    plain.push({ client, cursors, closed: closed.promise });
  }
  const urls = [restarting.url, other.url].map((url) => url.replace(/^http/, 'ws'));
  const state = { changes: [] as string[], closes: [] as Close[], connectingAt: [] as number[], closedAt: [] as number[] };
  witnessClient = createClient({ url: urls[1]!, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
  witnessClient.subscribe<{ orderStatusChanged: { version: number; order: { id: string } } }>(
    { query: FOLLOW },
    { next: (result) => void witness.push(`${result.data!.orderStatusChanged.order.id}#${result.data!.orderStatusChanged.version}`), error: () => undefined, complete: () => undefined },
  );
  await untilActiveSubscriptions(other.url, 1);
  // The README client comes back (to the other instance) only once what was committed while it
  // was away has gone by live: a resubscription without `after` would miss it.
  const made = readmeClient(async () => (state.connectingAt.length > 1 ? (await gapDelivered.promise, urls[1]!) : urls[0]!), token, {
    closed: (event) => {
      state.closes.push({ code: event.code, reason: event.reason });
      state.closedAt.push(performance.now());
    },
    connecting: () => void state.connectingAt.push(performance.now()),
  });
  readme = { ...made, ...state };
  made.client.subscribe<{ orderStatusChanged: { version: number; order: { id: string } } }>(
    { query: FOLLOW, variables: made.variables },
    {
      next: (result) => {
        const cursor = cursorOf(result);
        if (typeof cursor === 'string') made.variables.after = cursor;
        state.changes.push(`${result.data!.orderStatusChanged.order.id}#${result.data!.orderStatusChanged.version}`);
      },
      error: () => undefined,
      complete: () => undefined,
    },
  );
  await untilActiveSubscriptions(restarting.url, PLAIN_CLIENTS + 1);
  // Every client has an event, hence a cursor, before the restart.
  await placeOrder(restarting);
  await eventually(() => plain.every((p) => p.cursors.length > 0) && readme.changes.length === committed.length, { what: 'the first order on every client' });

  restarting.child.kill('SIGTERM');
  await restarting.waitForLog((l) => l.msg === 'draining: no new connections, finishing in-flight requests', 10_000);
  refusedUpgrade = await upgrade(restarting.url);
  // Committed while the README client is away (it waits its reconnect delay): only a resume has it.
  await eventually(() => readme.closes.length > 0, { what: 'the README client to see its close' });
  const gap = await placeOrder(other);
  await eventually(() => gap.every((change) => witness.includes(change)), { what: 'the change committed during the gap to be delivered live' });
  gapDelivered.resolve();
  exit = await within(restarting.exited, 30_000, 'the restarting instance to exit');
}, 120_000);

afterAll(async () => {
  for (const { client } of plain) await client.dispose();
  await readme?.client.dispose();
  await witnessClient?.dispose();
  await Promise.all([restarting?.stop(2_000), other?.stop(2_000)]);
  await db?.close();
});

describe('configuration', () => {
  it('SHUTDOWN_RECONNECT_SPREAD_MS defaults to 10 s; 0 reconnects at once', () => {
    expect(loadConfig({}).shutdownReconnectSpreadMs).toBe(10_000);
    expect(loadConfig({ SHUTDOWN_RECONNECT_SPREAD_MS: '0' }).shutdownReconnectSpreadMs).toBe(0);
    expect(() => loadConfig({ SHUTDOWN_RECONNECT_SPREAD_MS: '-1' })).toThrow(/SHUTDOWN_RECONNECT_SPREAD_MS/);
  });
});

describe('SIGTERM hands every graphql-ws socket off', () => {
  it('closes each with 1012 and a JSON reason: a reconnect delay within SHUTDOWN_RECONNECT_SPREAD_MS and the last cursor the socket got', async () => {
    const closes = await Promise.all(plain.map((p) => p.closed));
    for (const [i, close] of closes.entries()) {
      expect(close.code).toBe(1012);
      const hint = JSON.parse(close.reason) as Hint;
      expect(hint.cursor).toBe(plain[i]!.cursors.at(-1));
      expect(Number.isInteger(hint.reconnectInMs)).toBe(true);
      expect(hint.reconnectInMs).toBeGreaterThanOrEqual(0);
      expect(hint.reconnectInMs).toBeLessThan(SPREAD_MS);
    }
    // Spread, not one instant for all.
    const delays = closes.map((c) => (JSON.parse(c.reason) as Hint).reconnectInMs!);
    expect(new Set(delays).size).toBeGreaterThan(1);
    console.info(`hand-off: ${closes.length} sockets closed 1012, reconnect delays ${delays.toSorted((a, b) => a - b).join(', ')} ms (window ${SPREAD_MS} ms); reason e.g. ${closes[0]!.reason}`);
  });

  it('takes no new sockets once draining, and exits 0', () => {
    expect(refusedUpgrade).toBe('ECONNREFUSED');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(restarting.lines.find((l) => l.msg === 'HTTP drained')).toMatchObject({ clean: true, webSocketsClosed: PLAIN_CLIENTS + 1 });
  });

  it('a client written as the README shows waits the delay, reconnects to another instance and resumes with after: nothing lost, nothing twice', async () => {
    await eventually(() => readme.changes.length >= committed.length, { timeoutMs: SPREAD_MS + 15_000, what: 'every committed change on the README client' });
    expect(readme.closes[0]?.code).toBe(1012);
    const { reconnectInMs } = JSON.parse(readme.closes[0]!.reason) as Hint;
    // It connected twice (restarting instance, then the other one), the second time after the delay.
    expect(readme.connectingAt).toHaveLength(2);
    expect(readme.connectingAt[1]! - readme.closedAt[0]!).toBeGreaterThanOrEqual(reconnectInMs! - 5);
    expect(readme.changes).toEqual(committed);
  });
});
