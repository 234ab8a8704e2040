import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateProductDocument, PlaceOrderDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import type { HttpPaymentProvider } from '../../src/modules/payments/module.ts';
import { startFakeProvider, type Fault, type FakeProvider } from './fake-provider.ts';
import { countWhere, eventually, faultRunPaymentAdapter, moneyInvariantViolations, readLedger, seededRandom } from './support.ts';

/** Sized to fit CI (issue #3: at least 1,000 orders, 10 % faults). */
const ORDERS = 1_000;
const FAULT_RATE = 0.1;
const CONCURRENCY = 16;
const SEED = 20_261_121;
const FAULTS: readonly Fault[] = ['http-500', 'timeout', 'rate-limit', 'reset-after-processing', 'slow'];
const SECRET = 'sk_test_fault_run';

let provider: FakeProvider;
let adapter: HttpPaymentProvider;
let app: TestApp;

beforeAll(async () => {
  provider = await startFakeProvider({ secretKey: SECRET, slowMs: 60 });
  // The adapter as the app builds it from PAYMENT_* settings (breaker-fail-fast.test.ts times its open breaker).
  adapter = faultRunPaymentAdapter(provider.url, SECRET);
  app = await startTestApp({
    env: {
      PAYMENT_PROVIDER: 'http',
      PAYMENT_PROVIDER_URL: provider.url,
      PAYMENT_PROVIDER_SECRET_KEY: SECRET,
      PAYMENT_TIMEOUT_MS: '250',
      PAYMENT_MAX_ATTEMPTS: '3',
      PAYMENT_RETRY_MAX_DELAY_MS: '150',
      // Retry-After of a 429 may add up to 600 ms; the grace covers a whole call with margin.
      RECONCILER_GRACE_MS: '2500',
      RECONCILER_INTERVAL_MS: '300',
      ORDER_LOG_POLL_MS: '100',
    },
    app: { paymentProvider: adapter },
  });
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await provider?.stop();
});

describe('payments under injected faults', () => {
  it(`${ORDERS} orders with ${FAULT_RATE * 100} % faults: no double charge, every order PAID with one charge or PAYMENT_FAILED with none`, async () => {
    const admin = await app.demoToken('admin');
    const tokens = await Promise.all((['basic', 'premium', 'enterprise'] as const).map((who) => app.demoToken(who)));
    const created = await app.execute(CreateProductDocument, { input: { sku: 'FAULT-RUN', name: 'Fault-run item', price: '3.99', stock: 100_000 } }, { token: admin });
    if (created.data?.createProduct.__typename !== 'CreateProductSuccess') throw new Error(JSON.stringify(created));
    const productId = created.data.createProduct.product.id;

    const random = seededRandom(SEED);
    provider.chooseFault = (kind) => (kind === 'charge' && random() < FAULT_RATE ? FAULTS[Math.floor(random() * FAULTS.length)] : undefined);

    const outcomes = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < ORDERS) {
          const i = next++;
          const result = await app.execute(
            PlaceOrderDocument,
            { input: { idempotencyKey: `fault-${i}`, lines: [{ productId, quantity: 1 + (i % 3) }] } },
            { token: tokens[i % 3]! },
          );
          const outcome = result.data?.placeOrder.__typename ?? `error:${String(result.errors?.[0]?.message)}`;
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }
      }),
    );
    provider.chooseFault = () => undefined;
    const injected = Object.values(provider.injected).reduce((a, b) => a + b, 0);

    // Outcomes left unknown by exhausted retries are settled by the reconciler after its grace period.
    const settled = await eventually(
      async () => (await countWhere(app.db.url, "select count(*) as n from orders where status = 'PENDING'")) === 0 &&
        (await countWhere(app.db.url, "select count(*) as n from payments where status = 'PENDING'")) === 0,
      60_000,
    );
    const ledger = await readLedger(app.db.url);
    const violations = moneyInvariantViolations(ledger, provider.charges);
    const summary = {
      orders: ledger.length,
      faultsInjected: injected,
      byFault: provider.injected,
      chargeRequests: provider.requests.charges,
      lookups: provider.requests.lookups,
      charges: provider.charges.length,
      paid: ledger.filter((o) => o.status === 'PAID').length,
      paymentFailed: ledger.filter((o) => o.status === 'PAYMENT_FAILED').length,
      outcomes: Object.fromEntries(outcomes),
      violations: violations.length,
    };
    console.info(`fault run: ${JSON.stringify(summary)}`);
    expect(settled).toBe(true);
    expect(ledger).toHaveLength(ORDERS);
    expect(injected).toBeGreaterThanOrEqual(ORDERS * FAULT_RATE * 0.7);
    expect(violations).toEqual([]);
    // Every fault kind actually happened.
    for (const fault of FAULTS) expect(provider.injected[fault]).toBeGreaterThan(0);
  }, 300_000);
});
