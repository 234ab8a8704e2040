import { describe, it, expect } from 'vitest';
import type { CustomerTier } from '../../../../../src/modules/customers/domain/customer.ts';
import { createSetCustomerTier } from '../../../../../src/modules/customers/application/set-customer-tier.ts';
import { InMemoryCustomerRepository, ops } from '../../../../fakes/customers.ts';
import { InMemoryIdempotentCustomerWrites } from '../../../../fakes/customers-idempotency.ts';

const at = new Date('2026-04-01T09:30:00Z');
const setup = () => {
  const customers = new InMemoryCustomerRepository();
  const ada = customers.seed({ email: 'ada@example.com' });
  return { customers, ada, setCustomerTier: createSetCustomerTier({ customers, writes: new InMemoryIdempotentCustomerWrites(customers), now: () => at }) };
};

describe('setCustomerTier', () => {
  it('moves a customer to another tier for an admin', async () => {
    const { customers, ada, setCustomerTier } = setup();
    const result = await setCustomerTier(ops.admin(), { customerId: ada.id, tier: 'ENTERPRISE' });
    expect(result).toEqual({ ok: true, value: { ...ada, tier: 'ENTERPRISE', updatedAt: at } });
    expect(customers.rows.get(ada.id)?.customer.tier).toBe('ENTERPRISE');
  });

  it.each([
    ['an anonymous caller', 'UNAUTHENTICATED', () => ops.anonymous()],
    ['a customer, even for their own account', 'FORBIDDEN', (id: string) => ops.customer(id)],
  ])('refuses %s with %s and changes nothing', async (_label, code, opFor) => {
    const { customers, ada, setCustomerTier } = setup();
    const result = await setCustomerTier(opFor(ada.id), { customerId: ada.id, tier: 'ENTERPRISE' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(code);
    expect(customers.rows.get(ada.id)?.customer.tier).toBe('BASIC');
  });

  it('gives NOT_FOUND for an unknown customer', async () => {
    const { setCustomerTier } = setup();
    const result = await setCustomerTier(ops.admin(), { customerId: crypto.randomUUID(), tier: 'PREMIUM' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('NOT_FOUND');
  });

  it('refuses a tier that does not exist', async () => {
    const { ada, setCustomerTier } = setup();
    const result = await setCustomerTier(ops.admin(), { customerId: ada.id, tier: 'GOLD' as CustomerTier });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('VALIDATION_FAILED');
  });
});
