import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderStatusChangedDocument } from '../generated/operations.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { within } from '../support/eventually.ts';
import { untilActiveSubscriptions } from '../support/metrics.ts';
import { terminate } from '../support/process.ts';
import { DEMO_ACCOUNTS } from '../../src/demo/seed.ts';
import { startFakeProvider, type FakeProvider } from './fake-provider.ts';
import { freePort, startGateway, type GatewayProcess } from './gateway-process.ts';
import { countWhere, eventually, moneyInvariantViolations, readLedger, seededRandom } from './support.ts';

/** Where the gateway is killed (issue #3): before the charge request, after it is sent, after the charge but before commit, after commit but before publish. */
const POINTS = ['payment.before-charge', 'charge-sent', 'payment.after-charge', 'order.after-commit'] as const;
/** Kills per point; sized to fit CI. */
const KILLS_PER_POINT = 5;
const SECRET = 'sk_test_crash_run';

let db: TestDatabase;
let provider: FakeProvider;
let dataDir: string;
let port: number;
let baseEnv: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  provider = await startFakeProvider({ secretKey: SECRET });
  dataDir = await mkdtemp(join(tmpdir(), 'ordergraph-crash-'));
  port = await freePort();
  baseEnv = {
    DATABASE_URL: db.url,
    DB_POOL_MAX: String(db.poolMax),
    DATA_DIR: dataDir,
    SEED_DEMO_DATA: 'true',
    PAYMENT_PROVIDER: 'http',
    PAYMENT_PROVIDER_URL: provider.url,
    PAYMENT_PROVIDER_SECRET_KEY: SECRET,
    PAYMENT_TIMEOUT_MS: '400',
    PAYMENT_MAX_ATTEMPTS: '2',
    PAYMENT_RETRY_MAX_DELAY_MS: '50',
    RECONCILER_GRACE_MS: '1500',
    RECONCILER_INTERVAL_MS: '300',
    ORDER_LOG_POLL_MS: '100',
  };
}, 60_000);

afterAll(async () => {
  await provider?.stop();
  await db?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function gql<T>(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as T;
}

async function signIn(url: string, who: 'admin' | 'basic' | 'premium'): Promise<string> {
  const account = DEMO_ACCOUNTS.find((a) => a.email.startsWith(`${who}@`))!;
  const body = await gql<{ data: { signIn: { auth: { accessToken: string } } } }>(
    url,
    'mutation($input: SignInInput!) { signIn(input: $input) { ... on SignInSuccess { auth { accessToken } } } }',
    { input: { email: account.email, password: account.password } },
  );
  return body.data.signIn.auth.accessToken;
}

/** What a client watching every order saw, per order: versions in arrival order. */
const delivered = new Map<string, number[]>();

function watchAll(gateway: GatewayProcess, token: string): Client {
  const client = createClient({ url: gateway.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
  client.subscribe<{ orderStatusChanged: { version: number; order: { id: string } } }>(
    { query: print(OrderStatusChangedDocument), variables: {} },
    {
      next: (event) => {
        const change = event.data?.orderStatusChanged;
        if (change) delivered.set(change.order.id, [...(delivered.get(change.order.id) ?? []), change.version]);
      },
      error: () => undefined,
      complete: () => undefined,
    },
  );
  return client;
}

describe('crash recovery: the gateway killed with SIGKILL mid-payment', () => {
  it(`${POINTS.length} kill points × ${KILLS_PER_POINT}: Σ charges = Σ PAID totals, no orphan charge, nothing left PENDING, every change delivered on resume`, async () => {
    const random = seededRandom(7);
    let kills = 0;
    let placed = 0;
    let productId: string | undefined;
    const killLog: string[] = [];

    for (const point of POINTS) {
      for (let round = 0; round < KILLS_PER_POINT; round += 1) {
        const skip = Math.floor(random() * 3);
        let gateway: GatewayProcess;
        try {
          gateway = await startGateway(port, { ...baseEnv, ...(point === 'charge-sent' ? {} : { CRASH_POINT: point, CRASH_POINT_SKIP: String(skip) }) });
        } catch (error) {
          // Recovering from the previous kill (the reconciler settling an order at start-up) can
          // itself reach the armed point: killed while recovering, which counts.
          if (!String(error).includes(`crash point ${point} reached`)) throw error;
          kills += 1;
          killLog.push(`${point}#${skip}@start-up`);
          continue;
        }
        if (point === 'charge-sent') {
          let seen = 0;
          provider.onChargeRequest = () => {
            if (seen++ === skip) gateway.kill('SIGKILL');
          };
        }
        let died = false;
        const gone = new AbortController();
        void gateway.exited.then(() => {
          died = true;
          gone.abort(new Error('the gateway exited'));
        });
        let watcher: Client | undefined;
        try {
          // The armed point may also be reached by the recovery of the previous kill (the reconciler
          // settling an order at start-up): any request may find the gateway gone.
          const [customer, admin] = [await signIn(gateway.url, 'premium'), await signIn(gateway.url, 'admin')];
          if (!productId) {
            const created = await gql<{ data: { createProduct: { product: { id: string } } } }>(
              gateway.url,
              'mutation($input: CreateProductInput!) { createProduct(input: $input) { ... on CreateProductSuccess { product { id } } } }',
              { input: { sku: 'CRASH-RUN', name: 'Crash-run item', price: '7.50', stock: 10_000 } },
              admin,
            );
            productId = created.data.createProduct.product.id;
          }
          watcher = watchAll(gateway, admin);
          await untilActiveSubscriptions(gateway.url, 1, { signal: gone.signal });
          for (let i = 0; i < 12 && !died; i += 1) {
            placed += 1;
            await gql(
              gateway.url,
              'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename } }',
              { input: { idempotencyKey: `crash-${point}-${round}-${i}`, lines: [{ productId, quantity: 1 + (i % 2) }] } },
              customer,
            );
          }
        } catch (error) {
          // A request that failed because the gateway is being killed: its exit follows.
          if (!died) await within(gateway.exited, 5_000, 'the gateway to exit').catch(() => undefined);
          if (!died) throw error;
        }
        const exit = await within(gateway.exited, 10_000, 'the gateway to be killed').catch(() => undefined);
        provider.onChargeRequest = undefined;
        await watcher?.dispose();
        if (!exit) gateway.kill('SIGKILL');
        expect(exit?.signal, `gateway should have been killed at ${point} (skip ${skip}); stderr: ${gateway.stderr().slice(-500)}`).toBe('SIGKILL');
        kills += 1;
        killLog.push(`${point}#${skip}`);
      }
    }

    // Restart cleanly; the reconciler finishes what the kills interrupted (the changes are in the
    // order log, which the resume below reads: there is no "unpublished" state to wait out).
    const gateway = await startGateway(port, baseEnv);
    try {
      const admin = await signIn(gateway.url, 'admin');
      const watcher = watchAll(gateway, admin);
      const recovered = await eventually(
        async () =>
          (await countWhere(db.url, "select count(*) as n from orders where status = 'PENDING'")) === 0 &&
          (await countWhere(db.url, "select count(*) as n from payments where status = 'PENDING'")) === 0,
        30_000,
      );
      expect(recovered).toBe(true);

      // A client resumes each order from the last version it holds without a gap (what the watcher
      // has not received yet, it resumes from earlier).
      const ledger = await readLedger(db.url);
      let changes = 0;
      let missing = 0;
      const resumer = createClient({ url: gateway.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${admin}` } });
      for (const order of ledger) {
        changes += order.version;
        const seen = [...new Set(delivered.get(order.orderId) ?? [])].sort((a, b) => a - b);
        let contiguous = 0;
        while (seen.includes(contiguous + 1)) contiguous += 1;
        const resumed: number[] = [];
        if (contiguous < order.version) {
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`resume of ${order.orderId} from ${contiguous} timed out with ${JSON.stringify(resumed)}`)), 5_000);
            const stop = resumer.subscribe<{ orderStatusChanged: { version: number } }>(
              { query: print(OrderStatusChangedDocument), variables: { orderId: Buffer.from(`Order:${order.orderId}`).toString('base64'), afterVersion: contiguous } },
              {
                next: (event) => {
                  resumed.push(event.data!.orderStatusChanged.version);
                  if (event.data!.orderStatusChanged.version === order.version) {
                    clearTimeout(timer);
                    stop();
                    resolve();
                  }
                },
                error: reject,
                complete: () => undefined,
              },
            );
          });
        }
        const expected = Array.from({ length: order.version - contiguous }, (_, k) => contiguous + k + 1);
        if (JSON.stringify(resumed) !== JSON.stringify(expected)) missing += 1;
        expect(resumed).toEqual(expected);
      }
      await resumer.dispose();
      await watcher.dispose();

      const violations = moneyInvariantViolations(ledger, provider.charges);
      console.info(
        `crash run: ${JSON.stringify({
          kills,
          killPoints: killLog,
          ordersAttempted: placed,
          orders: ledger.length,
          paid: ledger.filter((o) => o.status === 'PAID').length,
          paymentFailed: ledger.filter((o) => o.status === 'PAYMENT_FAILED').length,
          charges: provider.charges.length,
          refunded: provider.charges.filter((c) => c.refund).length,
          statusChanges: changes,
          deliveredLive: [...delivered.values()].reduce((n, v) => n + v.length, 0),
          resumesWithGaps: missing,
          violations: violations.length,
        })}`,
      );
      expect(kills).toBe(POINTS.length * KILLS_PER_POINT);
      expect(violations).toEqual([]);
    } finally {
      await terminate(gateway.child, gateway.exited, 5_000);
    }
  }, 400_000);
});
