import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createThrottle, parseRate } from '../../src/graphql/security/rate-limit.ts';
import { PlaceOrderDocument, ProductsDocument, SignUpDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { eventually } from '../support/eventually.ts';
import { postGraphQL } from './support.ts';
import { redisAnswers, TEST_REDIS_URL } from '../support/redis.ts';

/** Per-identity rate limits hold, then recover (short windows via configuration). */

let app: TestApp;
let productId: string;

beforeAll(async () => {
  app = await startTestApp({ env: { RATE_LIMITS: 'true', RATE_LIMIT_SIGN_IN: '3/2', RATE_LIMIT_PLACE_ORDER: '2/2', COST_BUDGET_WINDOW_SECONDS: '2', COST_BUDGET_BASIC: '3000' } });
  const products = await app.execute(ProductsDocument, { first: 1, filter: { search: 'PEN-GEL' } }, {});
  productId = products.data!.products.edges[0]!.node.id;
});
afterAll(() => app?.stop());

async function newCustomer(): Promise<string> {
  const result = await app.execute(SignUpDocument, { input: { email: `rl-${crypto.randomUUID()}@example.com`, password: 'correct horse battery', name: 'Rate' } }, {});
  if (result.data?.signUp.__typename !== 'SignUpSuccess') throw new Error(JSON.stringify(result));
  return result.data.signUp.auth.accessToken;
}

/**
 * Repeats `attempt` (an assertion that a request went through) until it passes, at most the
 * server's Retry-After hint and a second more. Windows are fixed (rate-limiter-flexible), so the
 * refused tries meanwhile do not push the end of the window back.
 */
const recovers = (retryAfterSeconds: number, attempt: () => Promise<void>) =>
  eventually(attempt, { timeoutMs: retryAfterSeconds * 1_000 + 1_000, intervalMs: 100, what: `recovery within ${retryAfterSeconds} s` });

const SIGN_IN = 'mutation($input: SignInInput!) { signIn(input: $input) { __typename ... on RateLimitedError { code message retryAfterSeconds } } }';
const signInAttempt = async () =>
  JSON.parse((await postGraphQL(app.running.url, { query: SIGN_IN, variables: { input: { email: 'basic@ordergraph.dev', password: 'wrong password' } } })).text).data.signIn as {
    __typename: string;
    retryAfterSeconds?: number;
  };

describe('sign-in attempts per client (3 per 2 s here; 10 per 60 s by default)', () => {
  it('answers the 4th attempt with a typed RateLimitedError and a retry-after hint, then lets attempts through again', async () => {
    for (let i = 0; i < 3; i++) expect((await signInAttempt()).__typename).toBe('InvalidCredentialsError');
    const limited = await signInAttempt();
    expect(limited).toMatchObject({ __typename: 'RateLimitedError', code: 'RATE_LIMITED' });
    expect(limited.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(limited.retryAfterSeconds).toBeLessThanOrEqual(2);
    await recovers(limited.retryAfterSeconds!, async () => expect((await signInAttempt()).__typename).toBe('InvalidCredentialsError'));
  });
});

describe('placeOrder per customer (2 per 2 s here; 10 per 60 s by default)', () => {
  const place = (token: string) =>
    postGraphQL(
      app.running.url,
      { query: 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename } }', variables: { input: { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] } } },
      { authorization: `Bearer ${token}` },
    );

  it('refuses the 3rd order with 429, RATE_LIMITED and Retry-After, leaves other customers alone, and recovers', async () => {
    const [alice, bob] = [await newCustomer(), await newCustomer()];
    for (let i = 0; i < 2; i++) expect(JSON.parse((await place(alice)).text).data.placeOrder.__typename).toBe('PlaceOrderSuccess');
    const refused = await place(alice);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    const [error] = JSON.parse(refused.text).errors;
    expect(error.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: retryAfter });
    expect(JSON.parse((await place(bob)).text).data.placeOrder.__typename).toBe('PlaceOrderSuccess');
    await recovers(retryAfter, async () => expect(JSON.parse((await place(alice)).text).data?.placeOrder.__typename).toBe('PlaceOrderSuccess'));
  });

  it('counts every aliased placeOrder of one request', async () => {
    const carol = await newCustomer();
    const input = () => `{ idempotencyKey: "${crypto.randomUUID()}", lines: [{ productId: "${productId}", quantity: 1 }] }`;
    const reply = await postGraphQL(
      app.running.url,
      { query: `mutation { a: placeOrder(input: ${input()}) { __typename } b: placeOrder(input: ${input()}) { __typename } c: placeOrder(input: ${input()}) { __typename } }` },
      { authorization: `Bearer ${carol}` },
    );
    expect(reply.status).toBe(429);
  });
});

describe('the cost budget per identity (3,000 points per 2 s here for a BASIC customer; 30,000 per 60 s by default)', () => {
  it('refuses an operation once the identity has spent its budget, then recovers', async () => {
    const dave = await newCustomer();
    // 100 products × (edge, node, 9 scalars, price): 1,700 points, so the second one is over 3,000.
    const query = { query: '{ products(first: 100) { edges { node { id sku name description stock active inStock createdAt updatedAt price { amount currency } } } } }' };
    const headers = { authorization: `Bearer ${dave}` };
    expect((await postGraphQL(app.running.url, query, headers)).status).toBe(200);
    const refused = await postGraphQL(app.running.url, query, headers);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('RATE_LIMITED');
    await recovers(Number(refused.headers.get('retry-after')), async () => expect((await postGraphQL(app.running.url, query, headers)).status).toBe(200));
  });
});

describe('identities behind a trusted proxy (TRUST_PROXY_HOPS=1)', () => {
  it('counts each client address from X-Forwarded-For separately', async () => {
    const proxied = await startTestApp({ env: { RATE_LIMITS: 'true', RATE_LIMIT_SIGN_IN: '1/60', TRUST_PROXY_HOPS: '1' } });
    try {
      const attempt = async (client: string) =>
        JSON.parse(
          (await postGraphQL(proxied.running.url, { query: SIGN_IN, variables: { input: { email: 'basic@ordergraph.dev', password: 'wrong password' } } }, { 'x-forwarded-for': client })).text,
        ).data.signIn.__typename as string;
      expect(await attempt('203.0.113.1')).toBe('InvalidCredentialsError');
      expect(await attempt('203.0.113.1')).toBe('RateLimitedError');
      // A spoofed left-hand entry does not make a new client: the proxy's own entry counts.
      expect(await attempt('198.51.100.9, 203.0.113.1')).toBe('RateLimitedError');
      expect(await attempt('203.0.113.2')).toBe('InvalidCredentialsError');
    } finally {
      await proxied.stop();
    }
  });
});

describe('configuration', () => {
  it('parses rates as points/seconds and turns limits off by default only under NODE_ENV=test', () => {
    expect(parseRate('10/60')).toEqual({ points: 10, windowSeconds: 60 });
    expect(parseRate('0/60')).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'development' }).security.rateLimits).toEqual({
      signIn: { points: 10, windowSeconds: 60 },
      placeOrder: { points: 10, windowSeconds: 60 },
      costBudgets: { windowSeconds: 60, anonymous: 10_000, basic: 30_000, premium: 60_000, enterprise: 150_000, admin: 300_000 },
    });
    expect(loadConfig({ NODE_ENV: 'test' }).security.rateLimits).toBeUndefined();
    expect(() => loadConfig({ RATE_LIMIT_SIGN_IN: 'ten' })).toThrow(/RATE_LIMIT_SIGN_IN must be points\/seconds/);
  });
});

// Redis keeps the counters when REDIS_URL is set: checked against the machine's Redis on loopback
// (CI has one on 127.0.0.1:6379; elsewhere the test is skipped if none answers).
const REDIS_URL = TEST_REDIS_URL;
const haveRedis = process.env.CI === 'true' || (await redisAnswers());

describe.skipIf(!haveRedis)('rate-limit state in Redis', () => {
  it('is shared by every instance: two throttles on one Redis count together', async () => {
    const [one, two] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
    try {
      // Until a connection is ready, each instance counts in its own memory (see the next test).
      await Promise.all([one.ping(), two.ping()]);
      const name = `test-${crypto.randomUUID()}`;
      const instanceA = createThrottle(name, { points: 3, windowSeconds: 5 }, one);
      const instanceB = createThrottle(name, { points: 3, windowSeconds: 5 }, two);
      expect(await instanceA.take('ip:203.0.113.7')).toBeUndefined();
      expect(await instanceB.take('ip:203.0.113.7')).toBeUndefined();
      expect(await instanceA.take('ip:203.0.113.7')).toBeUndefined();
      expect(await instanceB.take('ip:203.0.113.7')).toMatchObject({ retryAfterSeconds: expect.any(Number) });
      expect(await instanceB.take('ip:198.51.100.1')).toBeUndefined();
      expect(await one.exists(`ordergraph:rl:${name}:ip:203.0.113.7`)).toBe(1);
    } finally {
      one.disconnect();
      two.disconnect();
    }
  });

  it('falls back to counting in memory while Redis is unreachable, neither failing nor opening the gates', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    try {
      const throttle = createThrottle(`test-${crypto.randomUUID()}`, { points: 2, windowSeconds: 5 }, down);
      expect(await throttle.take('ip:203.0.113.8')).toBeUndefined();
      expect(await throttle.take('ip:203.0.113.8')).toBeUndefined();
      expect(await throttle.take('ip:203.0.113.8')).toMatchObject({ retryAfterSeconds: expect.any(Number) });
    } finally {
      down.disconnect();
    }
  });
});
