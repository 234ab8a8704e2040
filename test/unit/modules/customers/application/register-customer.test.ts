import { describe, it, expect } from 'vitest';
import { createRegisterCustomer, type RegisterCustomerInput } from '../../../../../src/modules/customers/application/register-customer.ts';
import { FakePasswordHasher, InMemoryCustomerRepository, ops } from '../../../../fakes/customers.ts';

const admin: RegisterCustomerInput = { email: 'Admin@Example.com', password: 'admin password', name: 'Admin', role: 'ADMIN', tier: 'ENTERPRISE' };
const setup = () => {
  const customers = new InMemoryCustomerRepository();
  const passwords = new FakePasswordHasher();
  return { customers, passwords, registerCustomer: createRegisterCustomer({ customers, passwords }) };
};

describe('registerCustomer', () => {
  it('creates an account with the given role and tier for the system', async () => {
    const { customers, registerCustomer } = setup();
    const result = await registerCustomer(ops.system(), admin);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({ email: 'admin@example.com', name: 'Admin', role: 'ADMIN', tier: 'ENTERPRISE' });
    expect(customers.rows.get(result.value.id)?.passwordHash).toBe(FakePasswordHasher.hashOf('admin password'));
  });

  it('returns the existing account unchanged when the e-mail is registered', async () => {
    const { customers, passwords, registerCustomer } = setup();
    const existing = customers.seed({ email: 'admin@example.com', role: 'CUSTOMER', tier: 'BASIC' }, 'old password');
    const result = await registerCustomer(ops.system(), admin);
    expect(result).toEqual({ ok: true, value: existing });
    expect(customers.rows.size).toBe(1);
    expect(customers.rows.get(existing.id)?.passwordHash).toBe(FakePasswordHasher.hashOf('old password'));
    expect(passwords.hashed).toEqual([]);
  });

  it('lets an admin register accounts', async () => {
    const { registerCustomer } = setup();
    expect((await registerCustomer(ops.admin(), admin)).ok).toBe(true);
  });

  it.each([
    ['an anonymous caller', 'UNAUTHENTICATED', ops.anonymous()],
    ['a customer', 'FORBIDDEN', ops.customer(crypto.randomUUID())],
  ])('refuses %s with %s', async (_label, code, op) => {
    const { customers, registerCustomer } = setup();
    const result = await registerCustomer(op, admin);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(code);
    expect(customers.rows.size).toBe(0);
  });

  it('validates the fields, role and tier', async () => {
    const { registerCustomer } = setup();
    const result = await registerCustomer(ops.system(), { ...admin, email: 'x', role: 'ROOT' as 'ADMIN', tier: 'GOLD' as 'BASIC' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect('issues' in result.error && result.error.issues.map((issue) => issue.path)).toEqual([['email'], ['role'], ['tier']]);
  });
});
