import { describe, it, expect } from 'vitest';
import { IDEMPOTENCY_WINDOW_MS } from '../../../../../src/platform/idempotency.ts';
import { createSetCustomerTier } from '../../../../../src/modules/customers/application/set-customer-tier.ts';
import { createSignUp } from '../../../../../src/modules/customers/application/sign-up.ts';
import { FakePasswordHasher, FakeTokenIssuer, InMemoryCustomerRepository, ops } from '../../../../fakes/customers.ts';
import { InMemoryIdempotentCustomerWrites } from '../../../../fakes/customers-idempotency.ts';

const setup = () => {
  let now = Date.UTC(2026, 0, 1);
  const customers = new InMemoryCustomerRepository();
  const passwords = new FakePasswordHasher();
  const writes = new InMemoryIdempotentCustomerWrites(customers, { clock: () => now });
  const deps = { customers, passwords, writes, tokens: new FakeTokenIssuer(), now: () => new Date(now) };
  const advance = (ms: number) => {
    now += ms;
  };
  return { customers, passwords, writes, advance, setCustomerTier: createSetCustomerTier(deps), signUp: createSignUp(deps) };
};
const ada = { email: 'Ada@Example.com', password: 'correct horse', name: 'Ada' };

describe('setCustomerTier with an idempotency key', () => {
  it('changes once for 20 racing calls with one key, and all 20 get the same customer', async () => {
    const { customers, writes, setCustomerTier } = setup();
    const { id } = customers.seed({ email: 'bo@example.com' });
    const admin = ops.admin();
    const results = await Promise.all(Array.from({ length: 20 }, () => setCustomerTier(admin, { customerId: id, tier: 'PREMIUM', idempotencyKey: 'k' })));
    expect(results.every((r) => r.ok && r.value.tier === 'PREMIUM')).toBe(true);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(writes.writes).toBe(1);
  });

  it('answers a retry with the first result even after a later change', async () => {
    const { customers, setCustomerTier } = setup();
    const { id } = customers.seed({ email: 'bo@example.com' });
    const admin = ops.admin();
    const first = await setCustomerTier(admin, { customerId: id, tier: 'PREMIUM', idempotencyKey: 'k' });
    await setCustomerTier(admin, { customerId: id, tier: 'BASIC' });
    expect(await setCustomerTier(admin, { customerId: id, tier: 'PREMIUM', idempotencyKey: 'k' })).toEqual(first);
    expect(customers.rows.get(id)?.customer.tier).toBe('BASIC');
  });

  it('refuses the same key with another tier as IDEMPOTENCY_KEY_REUSED without changing', async () => {
    const { customers, setCustomerTier } = setup();
    const { id } = customers.seed({ email: 'bo@example.com' });
    const admin = ops.admin();
    await setCustomerTier(admin, { customerId: id, tier: 'PREMIUM', idempotencyKey: 'k' });
    const reused = await setCustomerTier(admin, { customerId: id, tier: 'BASIC', idempotencyKey: 'k' });
    expect(!reused.ok && reused.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(customers.rows.get(id)?.customer.tier).toBe('PREMIUM');
  });

  it('leaves the key free after NOT_FOUND, and refuses a malformed key before anything', async () => {
    const { customers, writes, setCustomerTier } = setup();
    const missing = await setCustomerTier(ops.admin(), { customerId: 'nobody', tier: 'PREMIUM', idempotencyKey: 'k' });
    expect(!missing.ok && missing.error.code).toBe('NOT_FOUND');
    expect(writes.keys.size).toBe(0);
    const { id } = customers.seed({ email: 'bo@example.com' });
    const bad = await setCustomerTier(ops.admin(), { customerId: id, tier: 'PREMIUM', idempotencyKey: 'a\nb' });
    expect(!bad.ok && bad.error.code).toBe('VALIDATION_FAILED');
    expect(customers.rows.get(id)?.customer.tier).toBe('BASIC');
  });

  it('changes again once the key is older than the 24 h window', async () => {
    const { customers, writes, advance, setCustomerTier } = setup();
    const { id } = customers.seed({ email: 'bo@example.com' });
    const admin = ops.admin();
    await setCustomerTier(admin, { customerId: id, tier: 'PREMIUM', idempotencyKey: 'k' });
    advance(IDEMPOTENCY_WINDOW_MS);
    await setCustomerTier(admin, { customerId: id, tier: 'PREMIUM', idempotencyKey: 'k' });
    expect(writes.writes).toBe(2);
  });
});

describe('signUp with an idempotency key', () => {
  it('opens one account for 20 racing calls with one key and input, and signs each of them in', async () => {
    const { customers, signUp } = setup();
    const results = await Promise.all(Array.from({ length: 20 }, () => signUp(ops.anonymous(), { ...ada, idempotencyKey: 'k' })));
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(Array(20).fill('ok'));
    expect(new Set(results.map((r) => r.ok && r.value.customer.id)).size).toBe(1);
    expect(results.every((r) => r.ok && r.value.accessToken === `token:${r.value.customer.id}:CUSTOMER`)).toBe(true);
    expect(customers.rows.size).toBe(1);
  });

  it('stores the account only, never a token or a password hash', async () => {
    const { writes, signUp } = setup();
    await signUp(ops.anonymous(), { ...ada, idempotencyKey: 'k' });
    const [stored] = [...writes.keys.values()];
    expect(Object.keys(stored!.value).sort()).toEqual(['createdAt', 'email', 'id', 'name', 'role', 'tier', 'updatedAt']);
  });

  it.each([
    ['another password', { password: 'wrong horse!' }],
    ['another name', { name: 'Imposter' }],
  ])('refuses the same key and e-mail with %s as IDEMPOTENCY_KEY_REUSED, with no token', async (_label, change) => {
    const { customers, signUp } = setup();
    await signUp(ops.anonymous(), { ...ada, idempotencyKey: 'k' });
    const reused = await signUp(ops.anonymous(), { ...ada, ...change, idempotencyKey: 'k' });
    expect(reused.ok).toBe(false);
    expect(!reused.ok && reused.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(customers.rows.size).toBe(1);
  });

  it('scopes the key to the e-mail: the same key for another address opens another account', async () => {
    const { customers, signUp } = setup();
    await signUp(ops.anonymous(), { ...ada, idempotencyKey: 'k' });
    const other = await signUp(ops.anonymous(), { ...ada, email: 'bo@example.com', idempotencyKey: 'k' });
    expect(other.ok && other.value.customer.email).toBe('bo@example.com');
    expect(customers.rows.size).toBe(2);
  });

  it('answers a new key for a registered e-mail as today: VALIDATION_FAILED on email', async () => {
    const { signUp } = setup();
    await signUp(ops.anonymous(), { ...ada, idempotencyKey: 'k' });
    const again = await signUp(ops.anonymous(), { ...ada, idempotencyKey: 'other' });
    expect(!again.ok && again.error.code).toBe('VALIDATION_FAILED');
    const unkeyed = await signUp(ops.anonymous(), ada);
    expect(!unkeyed.ok && unkeyed.error.code).toBe('VALIDATION_FAILED');
  });
});
