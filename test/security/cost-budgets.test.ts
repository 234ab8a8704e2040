// Tier-aware cost budgets (issue 15, docs/adr/0014): each identity spends its operations' bound
// cost from a window budget sized by its viewer class, every response says where it stands
// (`extensions.cost`), and an operation that does not fit is refused before it runs.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type RunningApp } from '../../src/app.ts';
import { createCostBudgets } from '../../src/graphql/security/cost-budget.ts';
import { systemContext } from '../../src/platform/op-context.ts';
import { SetCustomerTierDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { eventually, within } from '../support/eventually.ts';
import { redisAnswers, TEST_REDIS_URL } from '../support/redis.ts';
import { activeSubscriptions, untilActiveSubscriptions } from '../support/metrics.ts';
import { SseReader } from '../support/sse.ts';
import { postGraphQL, type Reply } from './support.ts';

/** The defaults divided by 100 (same ratios: 1 : 3 : 6 : 15 : 30), so a budget is spent in a few dozen requests. */
const BUDGETS = { anonymous: 100, basic: 300, premium: 600, enterprise: 1_500, admin: 3_000 } as const;
const budgetEnv = (windowSeconds: number) => ({
  RATE_LIMITS: 'true',
  RATE_LIMIT_SIGN_IN: '1000/60',
  COST_BUDGET_WINDOW_SECONDS: String(windowSeconds),
  COST_BUDGET_ANONYMOUS: String(BUDGETS.anonymous),
  COST_BUDGET_BASIC: String(BUDGETS.basic),
  COST_BUDGET_PREMIUM: String(BUDGETS.premium),
  COST_BUDGET_ENTERPRISE: String(BUDGETS.enterprise),
  COST_BUDGET_ADMIN: String(BUDGETS.admin),
});

/** A cheap public query whose cost is the same every time. */
const PROBE = { query: 'query Probe { products(first: 5) { edges { node { id sku } } } }' };

interface Cost {
  readonly requested: number;
  readonly remaining: number;
  readonly budget: number;
  readonly resetAfterSeconds: number;
}
const costOf = (reply: Reply): Cost => JSON.parse(reply.text).extensions?.cost as Cost;

const SIGN_UP = 'mutation($input: SignUpInput!) { signUp(input: $input) { __typename ... on SignUpSuccess { auth { accessToken customer { id } } } } }';

/** A fresh BASIC customer, signed up from an address of its own (so no anonymous budget runs dry). */
async function signUp(app: TestApp): Promise<{ token: string; customerId: string }> {
  const input = { email: `budget-${crypto.randomUUID()}@example.com`, password: 'correct horse battery', name: 'Budget' };
  const reply = await postGraphQL(app.running.url, { query: SIGN_UP, variables: { input } }, { 'x-forwarded-for': randomAddress() });
  const { signUp: result } = JSON.parse(reply.text).data;
  if (result.__typename !== 'SignUpSuccess') throw new Error(reply.text);
  return { token: result.auth.accessToken, customerId: result.auth.customer.id };
}

/** The UUID inside a global id (base64 of `Customer:<uuid>`). */
const uuidOf = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]!;

/** An address of TEST-NET-3 (counted as its own client where TRUST_PROXY_HOPS=1). */
const randomAddress = () => `203.0.113.${Math.floor(Math.random() * 254) + 1}`;

/** Sends `operation` (PROBE) until it is refused; returns how many were answered and the refusal. */
async function answeredUntilRefused(url: string, headers: Record<string, string>, operation: { query: string } = PROBE, max = 1_000): Promise<{ answered: number; refusal: Reply }> {
  for (let answered = 0; answered < max; answered += 1) {
    const reply = await postGraphQL(url, operation, headers);
    if (reply.status !== 200) return { answered, refusal: reply };
  }
  throw new Error(`${max} operations answered without a refusal`);
}

describe('budgets per viewer class (one 60 s window)', () => {
  let app: TestApp;
  beforeAll(async () => {
    // TRUST_PROXY_HOPS=1: each anonymous row is its own client address (X-Forwarded-For).
    app = await startTestApp({ env: { ...budgetEnv(60), TRUST_PROXY_HOPS: '1' } });
  });
  afterAll(() => app?.stop());

  const headersOf = async (who: keyof typeof BUDGETS): Promise<Record<string, string>> =>
    who === 'anonymous' ? { 'x-forwarded-for': '198.51.100.10' } : { authorization: `Bearer ${await app.demoToken(who)}` };

  it.each(Object.keys(BUDGETS) as (keyof typeof BUDGETS)[])('%s: shows its budget, answers what fits and refuses the next with 429, RATE_LIMITED and retryAfterSeconds', async (who) => {
    const headers = await headersOf(who);
    const first = await postGraphQL(app.running.url, PROBE, headers);
    expect(first.status).toBe(200);
    const cost = costOf(first);
    expect(cost).toMatchObject({ budget: BUDGETS[who], remaining: BUDGETS[who] - cost.requested });
    expect(cost.requested).toBeGreaterThan(0);
    expect(cost.resetAfterSeconds).toBeGreaterThan(0);
    expect(cost.resetAfterSeconds).toBeLessThanOrEqual(60);
    const fits = Math.floor(BUDGETS[who] / cost.requested);
    let last = cost;
    for (let sent = 1; sent < fits; sent += 1) {
      const reply = await postGraphQL(app.running.url, PROBE, headers);
      expect(reply.status).toBe(200);
      expect(costOf(reply).remaining).toBe(last.remaining - cost.requested);
      last = costOf(reply);
    }
    const refused = await postGraphQL(app.running.url, PROBE, headers);
    expect(refused.status).toBe(429);
    const body = JSON.parse(refused.text);
    expect(body.data).toBeUndefined();
    expect(body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: Number(refused.headers.get('retry-after')) });
    expect(body.errors[0].extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // The refusal carries the budget too, and cost nothing: a second one sees the same remainder.
    expect(body.extensions.cost).toMatchObject({ requested: cost.requested, remaining: last.remaining, budget: BUDGETS[who] });
    expect(costOf(await postGraphQL(app.running.url, PROBE, headers)).remaining).toBe(last.remaining);
  });

  it('really gives a premium customer more than a basic one: about twice the operations', async () => {
    const [basic, premium] = [await signUp(app), await signUp(app)];
    // As the system, not the admin, whose own budget the admin row spends.
    const op = systemContext('test-tiers');
    const changed = await app.running.createContext(op).customers.setCustomerTier(op, { customerId: uuidOf(premium.customerId), tier: 'PREMIUM' });
    expect(changed.ok).toBe(true);
    const basicRun = await answeredUntilRefused(app.running.url, { authorization: `Bearer ${basic.token}` });
    const premiumRun = await answeredUntilRefused(app.running.url, { authorization: `Bearer ${premium.token}` });
    expect(basicRun.refusal.status).toBe(429);
    expect(premiumRun.refusal.status).toBe(429);
    const cost = costOf(premiumRun.refusal).requested;
    expect(basicRun.answered).toBe(Math.floor(BUDGETS.basic / cost));
    expect(premiumRun.answered).toBe(Math.floor(BUDGETS.premium / cost));
    expect(premiumRun.answered).toBeGreaterThanOrEqual(2 * basicRun.answered);
  });

  it('puts extensions.cost on a graphql-ws query result', async () => {
    const client = app.wsClient((await signUp(app)).token);
    const result = await within(
      new Promise<Record<string, unknown>>((resolve, reject) => {
        client.subscribe(PROBE, { next: (value) => resolve(value as Record<string, unknown>), error: reject, complete: () => undefined });
      }),
      10_000,
      'the graphql-ws result',
    );
    const cost = (result['extensions'] as { cost: Cost }).cost;
    expect(cost).toMatchObject({ budget: BUDGETS.basic, remaining: BUDGETS.basic - cost.requested });
    expect(cost.requested).toBeGreaterThan(0);
  });

  it('charges a subscription once when it starts, and refuses one that does not fit with RATE_LIMITED and extensions.cost', async () => {
    const { token } = await signUp(app);
    const headers = { authorization: `Bearer ${token}` };
    const client = app.wsClient(token);
    const SUBSCRIBE = { query: 'subscription { orderStatusChanged { cursor } }' };
    const before = await activeSubscriptions(app.running.url);
    client.subscribe(SUBSCRIBE, { next: () => undefined, error: () => undefined, complete: () => undefined });
    await untilActiveSubscriptions(app.running.url, before + 1);
    // Charged once, when it started: a first probe afterwards finds less than the whole budget left.
    const after = costOf(await postGraphQL(app.running.url, PROBE, headers));
    expect(after.remaining).toBeLessThan(BUDGETS.basic - after.requested);
    // Spent to the last point: probes until one does not fit, then 1-point operations.
    expect((await answeredUntilRefused(app.running.url, headers)).refusal.status).toBe(429);
    const { refusal } = await answeredUntilRefused(app.running.url, headers, { query: '{ __typename }' });
    expect(costOf(refusal)).toMatchObject({ requested: 1, remaining: 0 });
    const refused = await within(
      new Promise<Record<string, unknown>>((resolve, reject) => {
        client.subscribe(SUBSCRIBE, { next: (value) => resolve(value as Record<string, unknown>), error: reject, complete: () => undefined });
      }),
      10_000,
      'the refused subscription',
    );
    expect(refused).toMatchObject({
      errors: [{ extensions: { code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) } }],
      extensions: { cost: { budget: BUDGETS.basic, remaining: costOf(refusal).remaining } },
    });
    expect(after.budget).toBe(BUDGETS.basic);
  });

  it('charges and reports a response served from the response cache like any other', async () => {
    const headers = { 'x-forwarded-for': '198.51.100.20' };
    const query = { query: 'query CachedProbe { products(first: 3) { edges { node { id } } } }' };
    const first = JSON.parse((await postGraphQL(app.running.url, query, headers)).text);
    const hit = JSON.parse((await postGraphQL(app.running.url, query, headers)).text);
    expect(hit.extensions.responseCache).toMatchObject({ hit: true });
    expect(hit.extensions.cost).toEqual({ ...first.extensions.cost, remaining: first.extensions.cost.remaining - first.extensions.cost.requested, resetAfterSeconds: expect.any(Number) });
  });

  it('puts extensions.cost on an SSE result', async () => {
    const response = await fetch(app.running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-forwarded-for': '198.51.100.77' },
      body: JSON.stringify(PROBE),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const [next] = await new SseReader(response).readUntil((message) => message.event === 'next');
    const result = JSON.parse(next!.data);
    expect(result.data.products.edges.length).toBeGreaterThan(0);
    expect(result.extensions.cost).toMatchObject({ budget: BUDGETS.anonymous, remaining: BUDGETS.anonymous - result.extensions.cost.requested });
  });
});

describe('a tier change (3 s windows)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: budgetEnv(3) });
  });
  afterAll(() => app?.stop());

  it('keeps the current window at the old budget and applies from the next one', async () => {
    const { token, customerId } = await signUp(app);
    const headers = { authorization: `Bearer ${token}` };
    const openedAt = Date.now();
    const opened = costOf(await postGraphQL(app.running.url, PROBE, headers));
    expect(opened.budget).toBe(BUDGETS.basic);
    const changed = await app.execute(SetCustomerTierDocument, { input: { customerId, tier: 'PREMIUM' } }, { token: await app.demoToken('admin') });
    expect(changed.data?.setCustomerTier.__typename).toBe('SetCustomerTierSuccess');
    const sameWindow = costOf(await postGraphQL(app.running.url, PROBE, headers));
    expect(sameWindow).toMatchObject({ budget: BUDGETS.basic, remaining: opened.remaining - opened.requested });
    const next = await eventually(
      async () => {
        const cost = costOf(await postGraphQL(app.running.url, PROBE, headers));
        expect(cost.budget).toBe(BUDGETS.premium);
        return cost;
      },
      { timeoutMs: 6_000, intervalMs: 100, what: 'the premium budget in the next window' },
    );
    // Not before the first window ended (resetAfterSeconds is rounded up), and a fresh window.
    expect(Date.now() - openedAt).toBeGreaterThan((opened.resetAfterSeconds - 1) * 1_000);
    expect(next.remaining).toBe(BUDGETS.premium - next.requested);
  });
});

describe('with rate limits off (RATE_LIMITS=false)', () => {
  it('adds no extensions.cost', async () => {
    const app = await startTestApp({ env: { RATE_LIMITS: 'false' } });
    try {
      const reply = await postGraphQL(app.running.url, PROBE);
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text).extensions?.cost).toBeUndefined();
    } finally {
      await app.stop();
    }
  });
});

// CI has a Redis on 127.0.0.1:6379; elsewhere skipped if none answers.
const haveRedis = process.env.CI === 'true' || (await redisAnswers());

describe.skipIf(!haveRedis)('budgets in Redis (REDIS_URL), shared by two instances on one database', () => {
  let app: TestApp;
  let second: { running: RunningApp; stop: () => Promise<void> };
  beforeAll(async () => {
    app = await startTestApp({ env: { ...budgetEnv(60), REDIS_URL: TEST_REDIS_URL } });
    // The same database, Redis and signing key (DATA_DIR): the second instance of a deployment.
    const other = createApp({ ...app.config, seedDemoData: false });
    second = { running: await other.start(), stop: other.stop };
  });
  afterAll(async () => {
    await second?.stop();
    await app?.stop();
  });

  it('counts what one instance charged on the other, and both refuse once the budget is spent', async () => {
    // A fresh customer: an identity (customer:<uuid>) no other test run has used in this Redis.
    const { token, customerId } = await signUp(app);
    const headers = { authorization: `Bearer ${token}` };
    const one = costOf(await postGraphQL(app.running.url, PROBE, headers));
    expect(one).toMatchObject({ budget: BUDGETS.basic, remaining: BUDGETS.basic - one.requested });
    const two = costOf(await postGraphQL(second.running.url, PROBE, headers));
    expect(two).toMatchObject({ budget: BUDGETS.basic, remaining: one.remaining - one.requested });
    let reply = await postGraphQL(second.running.url, PROBE, headers);
    while (reply.status === 200) reply = await postGraphQL(second.running.url, PROBE, headers);
    expect(reply.status).toBe(429);
    const onFirst = await postGraphQL(app.running.url, PROBE, headers);
    expect(onFirst.status).toBe(429);
    expect(costOf(onFirst)).toMatchObject({ budget: BUDGETS.basic, remaining: costOf(reply).remaining });
    const redis = new Redis(TEST_REDIS_URL);
    try {
      expect(await redis.get(`ordergraph:cb:budget:customer:${uuidOf(customerId)}`)).toBe(String(BUDGETS.basic));
      expect(Number(await redis.get(`ordergraph:cb:spent:customer:${uuidOf(customerId)}`))).toBe(BUDGETS.basic - costOf(reply).remaining);
    } finally {
      redis.disconnect();
    }
  });

  it('fixes a window at the budget of the instance that opened it, on every instance', async () => {
    const [one, two] = [new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL)];
    try {
      await Promise.all([one.ping(), two.ping()]);
      const settings = { windowSeconds: 60, ...BUDGETS };
      // The first instance read PREMIUM when it opened the window; the second reads BASIC (a tier
      // change in between): it keeps to the window's budget all the same.
      const first = createCostBudgets(settings, { redis: one, tierOf: async () => 'PREMIUM' });
      const second = createCostBudgets(settings, { redis: two, tierOf: async () => 'BASIC' });
      const identity = `customer:${crypto.randomUUID()}`;
      const viewer = { kind: 'customer', customerId: identity, role: 'CUSTOMER' } as const;
      expect((await first.charge(identity, viewer, 10))?.report).toMatchObject({ budget: BUDGETS.premium, remaining: BUDGETS.premium - 10 });
      expect((await second.charge(identity, viewer, 10))?.report).toMatchObject({ budget: BUDGETS.premium, remaining: BUDGETS.premium - 20 });
    } finally {
      one.disconnect();
      two.disconnect();
    }
  });

  it('counts in memory while Redis is unreachable, neither failing nor opening the gates', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    try {
      const budgets = createCostBudgets({ windowSeconds: 60, ...BUDGETS }, { redis: down, tierOf: async () => undefined });
      const viewer = { kind: 'anonymous' } as const;
      expect((await budgets.charge('ip:192.0.2.1', viewer, 60))?.report).toMatchObject({ budget: BUDGETS.anonymous, remaining: 40 });
      expect((await budgets.charge('ip:192.0.2.1', viewer, 60))?.refused).toBeDefined();
    } finally {
      down.disconnect();
    }
  });
});
