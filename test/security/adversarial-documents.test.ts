import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { attackOverWebSocket, HTTP_CATEGORIES, type HostileTarget } from './hostile-documents.ts';
import { postGraphQL } from './support.ts';

/**
 * Hostile documents (see hostile-documents.ts), over HTTP and graphql-ws. Every reply must be a
 * spec-shaped GraphQL response with no 5xx, stack, SQL or suggestion, and the categories built to
 * break a limit must be refused: each category asserts that of every reply it gets, inside its own
 * test, and then that the app still serves an ordinary request. The heap after the whole attack
 * is checked by adversarial-heap.test.ts (project `measured`).
 */

let app: TestApp;
const sent = { http: 0, ws: 0 };

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
  // The figures the issue asks for, in the test log (not asserted: each test asserts its own replies).
  console.info(`adversarial documents: ${sent.http + sent.ws} (HTTP ${sent.http}, graphql-ws ${sent.ws})`);
});

/** Fails the fast-check property (and so the test) on the first reply with a problem. */
const asserting = (transport: keyof typeof sent): HostileTarget['check'] => (label, problems) => {
  sent[transport] += 1;
  expect(problems, `reply to ${label}`).toEqual([]);
};

async function expectStillServing(): Promise<void> {
  const reply = await postGraphQL(app.running.url, { query: '{ products(first: 2) { totalCount edges { node { sku } } } }' });
  expect(reply.status).toBe(200);
  expect(JSON.parse(reply.text).data.products.totalCount).toBe(20);
}

describe('hostile documents over HTTP', () => {
  it.each(HTTP_CATEGORIES)('$title', async ({ attack }) => {
    await attack({ url: app.running.url, check: asserting('http') });
    await expectStillServing();
  });
});

describe('hostile documents over graphql-ws', () => {
  it('answers each with an error message on an open socket (never a 4500 close)', async () => {
    const { closes } = await attackOverWebSocket(app.running.url, await app.demoToken('basic'), asserting('ws'));
    expect(closes).toEqual([]);
    await expectStillServing();
  });
});
