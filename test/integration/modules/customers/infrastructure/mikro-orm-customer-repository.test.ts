import { beforeAll, describe, it, expect } from 'vitest';
import { useTestDatabase } from '../../../../support/test-database.ts';
import type { Customer } from '../../../../../src/modules/customers/domain/customer.ts';
import { MikroOrmCustomerRepository } from '../../../../../src/modules/customers/infrastructure/mikro-orm-customer-repository.ts';

const database = useTestDatabase();

const repo = () => new MikroOrmCustomerRepository(database.orm.em.fork());
const newCustomer = (fields: Partial<Customer> = {}): Customer => {
  const at = fields.createdAt ?? new Date('2026-02-01T10:00:00.000Z');
  return {
    id: crypto.randomUUID(),
    email: `${crypto.randomUUID()}@example.com`,
    name: 'Ada Lovelace',
    role: 'CUSTOMER',
    tier: 'BASIC',
    createdAt: at,
    updatedAt: at,
    ...fields,
  };
};

describe('MikroOrmCustomerRepository', () => {
  it('stores an account and reads it back by id without the password hash', async () => {
    const customer = newCustomer({ role: 'ADMIN', tier: 'PREMIUM' });
    expect(await repo().insert(customer, '$argon2id$hash')).toBe(true);
    const [found] = await repo().findByIds([customer.id]);
    expect(found).toEqual(customer);
    expect(found).not.toHaveProperty('passwordHash');
  });

  it('finds an account by e-mail together with its password hash', async () => {
    const customer = newCustomer();
    await repo().insert(customer, '$argon2id$the-hash');
    expect(await repo().findByEmail(customer.email)).toEqual({ customer, passwordHash: '$argon2id$the-hash' });
    expect(await repo().findByEmail('nobody@example.com')).toBeUndefined();
  });

  it('returns false for a second account with the same e-mail', async () => {
    const first = newCustomer();
    expect(await repo().insert(first, 'h1')).toBe(true);
    expect(await repo().insert(newCustomer({ email: first.email }), 'h2')).toBe(false);
    expect((await repo().findByEmail(first.email))?.customer.id).toBe(first.id);
  });

  it('leaves out missing ids and anything that is not a UUID', async () => {
    const customer = newCustomer();
    await repo().insert(customer, 'h');
    const found = await repo().findByIds(['not-a-uuid', crypto.randomUUID(), customer.id, "'; drop table customers; --"]);
    expect(found.map((c) => c.id)).toEqual([customer.id]);
    expect(await repo().findByIds([])).toEqual([]);
  });

  it('updates the tier and updatedAt, and nothing else', async () => {
    const customer = newCustomer();
    await repo().insert(customer, 'kept-hash');
    const at = new Date('2026-05-05T05:05:05.000Z');
    expect(await repo().updateTier(customer.id, 'ENTERPRISE', at)).toEqual({ ...customer, tier: 'ENTERPRISE', updatedAt: at });
    expect(await repo().findByEmail(customer.email)).toEqual({ customer: { ...customer, tier: 'ENTERPRISE', updatedAt: at }, passwordHash: 'kept-hash' });
  });

  it('gives undefined when updating the tier of a missing or malformed id', async () => {
    expect(await repo().updateTier(crypto.randomUUID(), 'PREMIUM', new Date())).toBeUndefined();
    expect(await repo().updateTier('nope', 'PREMIUM', new Date())).toBeUndefined();
  });

  it('is backed by a table that refuses an upper-case e-mail or an unknown tier', async () => {
    await expect(repo().insert(newCustomer({ email: 'Upper@Example.com' }), 'h')).rejects.toThrow();
    await expect(repo().insert(newCustomer({ tier: 'GOLD' as 'BASIC' }), 'h')).rejects.toThrow();
  });
});

describe('MikroOrmCustomerRepository.findPage', () => {
  // A table of its own would be cleaner, but this file's database is shared by the tests above:
  // compare only the customers created here, which are all older than theirs.
  const base = Date.UTC(2020, 0, 1);
  const created: Customer[] = [];
  beforeAll(async () => {
    const sameInstant = new Date(base + 2_000);
    for (const createdAt of [new Date(base + 3_000), sameInstant, new Date(base + 1_000), sameInstant, new Date(base)]) {
      const customer = newCustomer({ createdAt });
      await repo().insert(customer, 'h');
      created.push(customer);
    }
  });
  const expectedOrder = () =>
    [...created].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((c) => c.id);

  it('orders by createdAt, then id, and pages forward with cursors', async () => {
    const first = await repo().findPage({ first: 3 });
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(first.value.edges.map((edge) => edge.node.id)).toEqual(expectedOrder().slice(0, 3));
    expect(first.value.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = await repo().findPage({ first: 2, after: first.value.pageInfo.endCursor ?? undefined });
    expect(second.ok && second.value.edges.map((edge) => edge.node.id)).toEqual(expectedOrder().slice(3, 5));
  });

  it('pages backward from a cursor', async () => {
    const forward = await repo().findPage({ first: 4 });
    if (!forward.ok) throw forward.error;
    const back = await repo().findPage({ last: 2, before: forward.value.pageInfo.endCursor ?? undefined });
    expect(back.ok && back.value.edges.map((edge) => edge.node.id)).toEqual(expectedOrder().slice(1, 3));
  });

  it('counts every account', async () => {
    const page = await repo().findPage({ first: 1 });
    if (!page.ok) throw page.error;
    expect(await page.value.totalCount()).toBeGreaterThanOrEqual(created.length);
  });

  it('refuses a tampered cursor', async () => {
    const page = await repo().findPage({ first: 2, after: 'bm90LWEtY3Vyc29y' });
    expect(page.ok).toBe(false);
    if (page.ok) return;
    expect(page.error.code).toBe('VALIDATION_FAILED');
  });
});
