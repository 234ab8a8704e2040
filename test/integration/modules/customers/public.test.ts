import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { exportPKCS8, generateKeyPair } from 'jose';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createTestDatabase, type TestDatabase } from '../../../support/database.ts';
import { systemContext, type OpContext, type Viewer } from '../../../../src/platform/op-context.ts';
import { createLogger } from '../../../../src/platform/logger.ts';
import { createCustomersModule, type CustomersModule } from '../../../../src/modules/customers/module.ts';

let db: TestDatabase;
let orm: MikroORM;
let customers: CustomersModule;

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await db.openOrm();
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  customers = createCustomersModule({
    tokens: {
      privateKeyPem: await exportPKCS8(privateKey),
      dataDir: '/nonexistent',
      issuer: 'ordergraph',
      audience: 'ordergraph-api',
      ttlSeconds: 900,
      production: true,
    },
    signInThrottleFor: () => undefined,
  });
  const unused = () => {
    throw new Error('not used by the customers module');
  };
  await customers.start?.({ fork: () => orm.em.fork(), scopeFor: unused, apiFor: unused, logger: createLogger('silent') });
});
afterAll(async () => {
  await db?.close();
});

const useCases = () => customers.forRequest({ op: systemContext('test'), client: undefined, em: orm.em.fork() });
const opFor = (viewer: Viewer): OpContext => ({ signal: new AbortController().signal, viewer, requestId: 'test' });

describe('customers module, wired to PostgreSQL, argon2 and ES256', () => {
  it('signs up, signs in with the token a viewer is made from, and reads the account back', async () => {
    const signedUp = await useCases().signUp(opFor({ kind: 'anonymous' }), { email: 'Grace@Example.com', password: 'hopper 1906', name: 'Grace' });
    if (!signedUp.ok) throw signedUp.error;
    const signedIn = await useCases().signIn(opFor({ kind: 'anonymous' }), { email: 'grace@example.com', password: 'hopper 1906' });
    if (!signedIn.ok) throw signedIn.error;
    const viewer = (await customers.authenticate(signedIn.value.accessToken))?.viewer;
    expect(viewer).toEqual({ kind: 'customer', customerId: signedUp.value.customer.id, role: 'CUSTOMER' });
    const [me] = await useCases().getCustomers(opFor(viewer as Viewer), [signedUp.value.customer.id]);
    expect(me).toEqual(signedUp.value.customer);
    const wrong = await useCases().signIn(opFor({ kind: 'anonymous' }), { email: 'grace@example.com', password: 'hopper 1907' });
    expect(wrong.ok || wrong.error.code).toBe('INVALID_CREDENTIALS');
  });

  it('seeds an admin idempotently and prices by the tier an admin sets', async () => {
    const system = systemContext('test');
    const input = { email: 'root@example.com', password: 'admin password', name: 'Root', role: 'ADMIN', tier: 'BASIC' } as const;
    const first = await useCases().registerCustomer(system, input);
    const again = await useCases().registerCustomer(system, { ...input, name: 'Changed' });
    if (!first.ok || !again.ok) throw new Error('registration failed');
    expect(again.value).toEqual(first.value);
    const updated = await useCases().setCustomerTier(system, { customerId: first.value.id, tier: 'ENTERPRISE' });
    expect(updated.ok).toBe(true);
    expect(await useCases().getPricingTier(system, first.value.id)).toBe('ENTERPRISE');
  });
});
