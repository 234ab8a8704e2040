import type { OpContext } from '../../../platform/op-context.ts';
import type { CustomerTier } from '../domain/customer.ts';
import type { CustomerRepository } from './ports.ts';

/**
 * Reads a customer's current pricing tier. Internal: no visibility check, because callers (the
 * orders module pricing an order for the signed-in customer) have already authorized the
 * operation; never expose it to clients directly.
 * @returns the tier, or undefined when there is no such customer.
 */
export type GetPricingTier = (op: OpContext, customerId: string) => Promise<CustomerTier | undefined>;

/** Builds {@link GetPricingTier}. */
export function createGetPricingTier(deps: { customers: CustomerRepository }): GetPricingTier {
  return async (op, customerId) => {
    op.signal.throwIfAborted();
    const [customer] = await deps.customers.findByIds([customerId]);
    return customer?.tier;
  };
}
