import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../../support/test-database.ts';
import { FakePasswordHasher, FakeTokenIssuer, ops } from '../../../../fakes/customers.ts';
import { createSetCustomerTier } from '../../../../../src/modules/customers/application/set-customer-tier.ts';
import { createSignUp } from '../../../../../src/modules/customers/application/sign-up.ts';
import { MikroOrmCustomerRepository } from '../../../../../src/modules/customers/infrastructure/mikro-orm-customer-repository.ts';
import { MikroOrmIdempotentCustomerWrites, pruneIdempotencyKeys } from '../../../../../src/modules/customers/infrastructure/mikro-orm-idempotent-writes.ts';

// The use cases on the real adapters, each call in its own EntityManager fork as a request has:
// on PostgreSQL (TEST_DATABASE_URL) the racing calls run on separate connections.
describe('setCustomerTier and signUp with an idempotency key, on the database', () => {
  const database = useTestDatabase();
  const passwords = new FakePasswordHasher();
  const depsOf = () => {
    const em = database.orm.em.fork();
    return { customers: new MikroOrmCustomerRepository(em), writes: new MikroOrmIdempotentCustomerWrites(em), passwords, tokens: new FakeTokenIssuer() };
  };
  const setTier = (...args: Parameters<ReturnType<typeof createSetCustomerTier>>) => createSetCustomerTier(depsOf())(...args);
  const signUp = (...args: Parameters<ReturnType<typeof createSignUp>>) => createSignUp(depsOf())(...args);
  const newCustomer = async () => {
    const opened = await signUp(ops.anonymous(), { email: `idem-${crypto.randomUUID()}@example.com`, password: 'correct horse', name: 'Keyed' });
    if (!opened.ok) throw new Error(opened.error.message);
    return opened.value.customer;
  };
  const sql = <T extends object>(query: string, params: unknown[]) => database.orm.em.fork().getConnection().execute<T[]>(query, params);
  const keyRows = async (key: string) => Number((await sql<{ n: string }>('select count(*) as n from customers_idempotency_keys where key = ?', [key]))[0]!.n);
  const accountsWith = async (email: string) => Number((await sql<{ n: string }>('select count(*) as n from customers where email = ?', [email]))[0]!.n);

  it('changes the tier once for 20 racing calls with one key, and answers all 20 with the same customer', async () => {
    const { id } = await newCustomer();
    const admin = ops.admin();
    const idempotencyKey = crypto.randomUUID();
    const results = await Promise.all(Array.from({ length: 20 }, () => setTier(admin, { customerId: id, tier: 'PREMIUM', idempotencyKey })));
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(Array(20).fill('ok'));
    expect(new Set(results.map((r) => (r.ok ? JSON.stringify(r.value) : ''))).size).toBe(1);
    const [row] = await sql<{ tier: string; updated_at: string }>('select tier, updated_at from customers where id = ?', [id]);
    expect(row!.tier).toBe('PREMIUM');
    // One change: the stored updatedAt is the first (and only) call's.
    expect(results[0]!.ok && results[0]!.value.updatedAt.getTime()).toBe(new Date(row!.updated_at).getTime());
    expect(await keyRows(idempotencyKey)).toBe(1);
  });

  it('refuses the same key with another tier as IDEMPOTENCY_KEY_REUSED and leaves the tier', async () => {
    const { id } = await newCustomer();
    const admin = ops.admin();
    const idempotencyKey = crypto.randomUUID();
    await setTier(admin, { customerId: id, tier: 'PREMIUM', idempotencyKey });
    const reused = await setTier(admin, { customerId: id, tier: 'BASIC', idempotencyKey });
    expect(!reused.ok && reused.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await sql<{ tier: string }>('select tier from customers where id = ?', [id]))[0]!.tier).toBe('PREMIUM');
  });

  it('opens one account for 20 racing sign-ups with one key and input, and signs in all 20', async () => {
    const email = `race-${crypto.randomUUID()}@example.com`;
    const idempotencyKey = crypto.randomUUID();
    const results = await Promise.all(Array.from({ length: 20 }, () => signUp(ops.anonymous(), { email, password: 'correct horse', name: 'Racer', idempotencyKey })));
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(Array(20).fill('ok'));
    expect(new Set(results.map((r) => r.ok && r.value.customer.id)).size).toBe(1);
    expect(results.every((r) => r.ok && r.value.accessToken === `token:${r.value.customer.id}:CUSTOMER`)).toBe(true);
    expect(await accountsWith(email)).toBe(1);
    const [row] = await sql<{ identity: string; result: Record<string, unknown> }>('select identity, result from customers_idempotency_keys where key = ?', [idempotencyKey]);
    expect(row!.identity).toBe(`signup:${email}`);
    expect(Object.keys(row!.result).sort()).toEqual(['createdAt', 'email', 'id', 'name', 'role', 'tier', 'updatedAt']);
  });

  it('refuses the same sign-up key with another password as IDEMPOTENCY_KEY_REUSED', async () => {
    const email = `reuse-${crypto.randomUUID()}@example.com`;
    const idempotencyKey = crypto.randomUUID();
    await signUp(ops.anonymous(), { email, password: 'correct horse', name: 'Ada', idempotencyKey });
    const reused = await signUp(ops.anonymous(), { email, password: 'battery staple', name: 'Ada', idempotencyKey });
    expect(!reused.ok && reused.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await accountsWith(email)).toBe(1);
  });

  it('stores no key when sign-up is refused, and without a key a second sign-up is refused as before', async () => {
    const { email } = await newCustomer();
    const idempotencyKey = crypto.randomUUID();
    const keyed = await signUp(ops.anonymous(), { email, password: 'correct horse', name: 'Keyed', idempotencyKey });
    expect(!keyed.ok && keyed.error.code).toBe('VALIDATION_FAILED');
    expect(await keyRows(idempotencyKey)).toBe(0);
    const unkeyed = await signUp(ops.anonymous(), { email, password: 'correct horse', name: 'Keyed' });
    expect(!unkeyed.ok && unkeyed.error.code).toBe('VALIDATION_FAILED');
  });

  it('changes again with a key older than 24 h, and the pruner deletes expired keys', async () => {
    const { id } = await newCustomer();
    const admin = ops.admin();
    const idempotencyKey = crypto.randomUUID();
    const first = await setTier(admin, { customerId: id, tier: 'PREMIUM', idempotencyKey });
    await setTier(admin, { customerId: id, tier: 'BASIC' });
    await sql(`update customers_idempotency_keys set created_at = now() - interval '24 hours 1 second' where key = ?`, [idempotencyKey]);
    const again = await setTier(admin, { customerId: id, tier: 'PREMIUM', idempotencyKey });
    expect(again.ok && first.ok && again.value.updatedAt > first.value.updatedAt).toBe(true);
    await sql(`update customers_idempotency_keys set created_at = now() - interval '25 hours' where key = ?`, [idempotencyKey]);
    expect(await pruneIdempotencyKeys(database.orm.em.fork())).toBeGreaterThanOrEqual(1);
    expect(await keyRows(idempotencyKey)).toBe(0);
  });
});
