import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import { registerAuthPayload } from './auth-payload.type.ts';
import { registerCustomerErrors } from './customer.errors.ts';
import { registerAuthMutations, registerCustomerMutations } from './customer.mutations.ts';
import { registerCustomer, registerCustomerQueries } from './customer.type.ts';

/**
 * Registers the customers module's GraphQL surface: Customer (a Relay node) with its queries (`me`,
 * admin `customers`) and mutations (`signUp`, `signIn`, admin `setCustomerTier`). Sign-up and
 * sign-in answer with an `AuthPayload` under `auth`.
 * @returns the Customer and CustomerTier refs, for fields other modules add (a customer's orders).
 */
export function registerCustomersGraphQL(builder: Builder, common: CommonRefs) {
  const { Customer, CustomerTier } = registerCustomer(builder);
  registerCustomerQueries(builder, Customer);
  registerCustomerErrors(builder, common);
  const AuthPayload = registerAuthPayload(builder, Customer);
  registerAuthMutations(builder, AuthPayload);
  registerCustomerMutations(builder, { Customer, CustomerTier });
  return { Customer, CustomerTier };
}

/** The refs the customers module offers other modules' GraphQL registrations. */
export type CustomersRefs = ReturnType<typeof registerCustomersGraphQL>;
