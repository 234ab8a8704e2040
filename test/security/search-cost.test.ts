// A search makes the database read every product, so it costs an identity's rate budget what it
// costs the database, not what it returns (issue 10, item 8: 28 searches a second from one client
// were never limited and slowed everyone else). Budgets here: 1,000 points a minute for a BASIC customer (COST_BUDGET_BASIC).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INPUT_FIELD_COSTS } from '../../src/graphql/security/input-cost.ts';
import { SignUpDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { postGraphQL } from './support.ts';

let app: TestApp;
const BUDGET = 1_000;

beforeAll(async () => {
  app = await startTestApp({ env: { RATE_LIMITS: 'true', COST_BUDGET_WINDOW_SECONDS: '60', COST_BUDGET_BASIC: String(BUDGET) } });
});
afterAll(() => app?.stop());

async function newCustomer(): Promise<string> {
  const result = await app.execute(SignUpDocument, { input: { email: `cost-${crypto.randomUUID()}@example.com`, password: 'correct horse battery', name: 'Cost' } }, {});
  if (result.data?.signUp.__typename !== 'SignUpSuccess') throw new Error(JSON.stringify(result));
  return result.data.signUp.auth.accessToken;
}

/** Sends `query` until it is refused (or `max` times); returns how many were answered. */
async function answeredBeforeRefusal(token: string, variables: Record<string, unknown>, max: number): Promise<number> {
  const query = 'query Count($s: String) { products(first: 1, filter: { search: $s }) { totalCount } }';
  for (let sent = 0; sent < max; sent += 1) {
    const reply = await postGraphQL(app.running.url, { query, variables }, { authorization: `Bearer ${token}` });
    if (reply.status === 429) {
      expect(JSON.parse(reply.text).errors[0].extensions.code).toBe('RATE_LIMITED');
      return sent;
    }
    expect(reply.status).toBe(200);
  }
  return max;
}

describe('the cost of a product search', () => {
  it('spends the budget of its database work: searches are refused long before the same count without a search', async () => {
    const searchCost = INPUT_FIELD_COSTS['ProductFilter.search']!;
    const searches = await answeredBeforeRefusal(await newCustomer(), { s: 'pen' }, 100);
    expect(searches).toBeLessThanOrEqual(Math.ceil(BUDGET / searchCost));
    // Another identity counting without a search gets many times more answers from the same budget.
    const counts = await answeredBeforeRefusal(await newCustomer(), {}, 3 * searches + 1);
    expect(counts).toBe(3 * searches + 1);
  });
});
