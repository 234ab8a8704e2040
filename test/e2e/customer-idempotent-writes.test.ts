import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeDocument, SetCustomerTierDocument, SignUpDocument } from '../generated/operations.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

// setCustomerTier's and signUp's idempotency keys through GraphQL over HTTP, each call a request
// of its own (real argon2 hashing, real tokens).
let app: TestApp;
let admin: string;

beforeAll(async () => {
  app = await startTestApp();
  admin = await app.demoToken('admin');
});
afterAll(() => app?.stop());

const newEmail = () => `idem-${crypto.randomUUID()}@example.com`;
const signUp = (input: { email: string; password: string; name: string; idempotencyKey?: string }) => app.execute(SignUpDocument, { input }, {});

describe('setCustomerTier with an idempotency key over HTTP', () => {
  it('moves the customer once for 20 racing requests with one key, and all 20 get the same answer', async () => {
    const opened = await signUp({ email: newEmail(), password: 'correct horse', name: 'Tiered' });
    if (opened.data?.signUp.__typename !== 'SignUpSuccess') throw new Error(JSON.stringify(opened));
    const customerId = opened.data.signUp.auth.customer.id;
    const idempotencyKey = crypto.randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => app.execute(SetCustomerTierDocument, { input: { customerId, tier: 'PREMIUM', idempotencyKey } }, { token: admin })),
    );
    expect(answers.map((a) => a.data?.setCustomerTier)).toEqual(Array(20).fill({ __typename: 'SetCustomerTierSuccess', customer: { id: customerId, tier: 'PREMIUM' } }));
    const reused = await app.execute(SetCustomerTierDocument, { input: { customerId, tier: 'BASIC', idempotencyKey } }, { token: admin });
    expect(reused.errors).toBeUndefined();
    expect(reused.data!.setCustomerTier).toMatchObject({ __typename: 'IdempotencyKeyReusedError', code: 'IDEMPOTENCY_KEY_REUSED' });
    const me = await app.execute(MeDocument, {}, { token: opened.data.signUp.auth.accessToken });
    expect(me.data!.me!.tier).toBe('PREMIUM');
  });
});

describe('signUp with an idempotency key over HTTP', () => {
  it('opens one account for 20 racing requests with one key and input; each answer signs in to it', async () => {
    const email = newEmail();
    const idempotencyKey = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 20 }, () => signUp({ email, password: 'correct horse', name: 'Racer', idempotencyKey })));
    const ids = answers.map((a) => (a.data?.signUp.__typename === 'SignUpSuccess' ? a.data.signUp.auth.customer.id : JSON.stringify(a)));
    expect(new Set(ids).size).toBe(1);
    for (const answer of answers) {
      if (answer.data?.signUp.__typename !== 'SignUpSuccess') throw new Error(JSON.stringify(answer));
      const me = await app.execute(MeDocument, {}, { token: answer.data.signUp.auth.accessToken });
      expect(me.data!.me).toMatchObject({ id: ids[0], email });
    }
  });

  it('answers the same key with another password with IdempotencyKeyReusedError and no token', async () => {
    const email = newEmail();
    const idempotencyKey = crypto.randomUUID();
    await signUp({ email, password: 'correct horse', name: 'Ada', idempotencyKey });
    const reused = await signUp({ email, password: 'battery staple', name: 'Ada', idempotencyKey });
    expect(reused.errors).toBeUndefined();
    expect(reused.data!.signUp).toEqual({ __typename: 'IdempotencyKeyReusedError', code: 'IDEMPOTENCY_KEY_REUSED', message: expect.any(String) });
  });

  it('refuses a second sign-up of the same e-mail without a key, as before', async () => {
    const email = newEmail();
    const first = await signUp({ email, password: 'correct horse', name: 'Once' });
    expect(first.data!.signUp.__typename).toBe('SignUpSuccess');
    const second = await signUp({ email, password: 'correct horse', name: 'Once' });
    expect(second.data!.signUp).toMatchObject({ __typename: 'ValidationError', fields: [{ path: ['email'], message: 'is already registered' }] });
  });
});
