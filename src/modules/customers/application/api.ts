import { createGetCustomers } from './get-customers.ts';
import { createGetPricingTier } from './get-pricing-tier.ts';
import { createListCustomers } from './list-customers.ts';
import type { AttemptThrottle, CustomerRepository, IdempotentCustomerWrites, PasswordHasher, TokenIssuer } from './ports.ts';
import { createRegisterCustomer } from './register-customer.ts';
import { createSetCustomerTier } from './set-customer-tier.ts';
import { createSignIn } from './sign-in.ts';
import { createSignUp } from './sign-up.ts';

/** What the customers use cases need for one operation. */
export interface CustomersApiDeps {
  readonly customers: CustomerRepository;
  /** Keyed writes of this operation (ADR 0013). */
  readonly writes: IdempotentCustomerWrites;
  /** Process-wide. */
  readonly passwords: PasswordHasher;
  /** Process-wide. */
  readonly tokens: TokenIssuer;
  /** Counts this caller's sign-in attempts; undefined when nothing limits them (scripts, workers). */
  readonly signInThrottle: AttemptThrottle | undefined;
}

/** The customers use cases for one operation; each takes the operation context first. */
export function createCustomersApi(deps: CustomersApiDeps) {
  const { customers, passwords, tokens, writes } = deps;
  return {
    signUp: createSignUp({ customers, passwords, tokens, writes }),
    signIn: createSignIn({ customers, passwords, tokens, throttle: deps.signInThrottle }),
    getCustomers: createGetCustomers({ customers }),
    listCustomers: createListCustomers({ customers }),
    setCustomerTier: createSetCustomerTier({ customers, writes }),
    getPricingTier: createGetPricingTier({ customers }),
    registerCustomer: createRegisterCustomer({ customers, passwords }),
  };
}

/** What the customers module offers for one operation (GraphQL resolvers, other modules). */
export type CustomersApi = ReturnType<typeof createCustomersApi>;
