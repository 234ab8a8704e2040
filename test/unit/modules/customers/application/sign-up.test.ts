import { describe, it, expect } from 'vitest';
import { ValidationError } from '../../../../../src/platform/errors.ts';
import { createSignUp } from '../../../../../src/modules/customers/application/sign-up.ts';
import { FakePasswordHasher, FakeTokenIssuer, InMemoryCustomerRepository, ops } from '../../../../fakes/customers.ts';
import { InMemoryIdempotentCustomerWrites } from '../../../../fakes/customers-idempotency.ts';

const setup = () => {
  const customers = new InMemoryCustomerRepository();
  const passwords = new FakePasswordHasher();
  const at = new Date('2026-03-01T12:00:00Z');
  const signUp = createSignUp({ customers, passwords, tokens: new FakeTokenIssuer(), writes: new InMemoryIdempotentCustomerWrites(customers), now: () => at });
  return { customers, passwords, signUp, at };
};

describe('signUp', () => {
  it('opens a BASIC customer account with a normalized e-mail and signs it in', async () => {
    const { customers, passwords, signUp, at } = setup();
    const result = await signUp(ops.anonymous(), { email: '  Ada@Example.COM ', password: 'correct horse', name: '  Ada  ' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { customer, accessToken, expiresAt } = result.value;
    expect(customer).toEqual({ id: expect.any(String), email: 'ada@example.com', name: 'Ada', role: 'CUSTOMER', tier: 'BASIC', createdAt: at, updatedAt: at });
    expect(accessToken).toBe(`token:${customer.id}:CUSTOMER`);
    expect(expiresAt).toBeInstanceOf(Date);
    expect(customers.rows.get(customer.id)?.passwordHash).toBe(FakePasswordHasher.hashOf('correct horse'));
    expect(passwords.hashed).toEqual(['correct horse']);
    expect(customer).not.toHaveProperty('passwordHash');
  });

  it('refuses an e-mail that is already registered, whatever its case', async () => {
    const { customers, signUp } = setup();
    customers.seed({ email: 'ada@example.com' });
    const result = await signUp(ops.anonymous(), { email: 'ADA@example.com', password: 'another password', name: 'Imposter' });
    expect(result).toEqual({ ok: false, error: expect.any(ValidationError) });
    if (result.ok || !(result.error instanceof ValidationError)) return;
    expect(result.error.code).toBe('VALIDATION_FAILED');
    expect(result.error.issues).toEqual([{ path: ['email'], message: 'is already registered' }]);
    expect(customers.rows.size).toBe(1);
  });

  it('lists every invalid field and stores nothing, hashing nothing', async () => {
    const { customers, passwords, signUp } = setup();
    const result = await signUp(ops.anonymous(), { email: 'not-an-email', password: 'short', name: '' });
    expect(result.ok).toBe(false);
    if (result.ok || !(result.error instanceof ValidationError)) throw new Error('expected VALIDATION_FAILED');
    expect(result.error.issues.map((issue) => issue.path)).toEqual([['email'], ['password'], ['name']]);
    expect(customers.rows.size).toBe(0);
    expect(passwords.hashed).toEqual([]);
  });

  it('stops before writing when the request is aborted', async () => {
    const { customers, signUp } = setup();
    const controller = new AbortController();
    controller.abort();
    await expect(
      signUp({ ...ops.anonymous(), signal: controller.signal }, { email: 'ada@example.com', password: 'correct horse', name: 'Ada' }),
    ).rejects.toThrow();
    expect(customers.rows.size).toBe(0);
  });
});
