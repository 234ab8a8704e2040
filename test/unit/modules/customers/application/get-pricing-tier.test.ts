import { describe, it, expect } from 'vitest';
import { createGetPricingTier } from '../../../../../src/modules/customers/application/get-pricing-tier.ts';
import { InMemoryCustomerRepository, ops } from '../../../../fakes/customers.ts';

describe('getPricingTier', () => {
  it("reads the customer's current tier", async () => {
    const customers = new InMemoryCustomerRepository();
    const ada = customers.seed({ email: 'ada@example.com', tier: 'PREMIUM' });
    const getPricingTier = createGetPricingTier({ customers });
    expect(await getPricingTier(ops.customer(ada.id), ada.id)).toBe('PREMIUM');
    await customers.updateTier(ada.id, 'ENTERPRISE', new Date());
    expect(await getPricingTier(ops.customer(ada.id), ada.id)).toBe('ENTERPRISE');
  });

  it('is undefined for an unknown customer', async () => {
    const getPricingTier = createGetPricingTier({ customers: new InMemoryCustomerRepository() });
    expect(await getPricingTier(ops.system(), crypto.randomUUID())).toBeUndefined();
  });
});
