import type { EntityManager } from '@mikro-orm/postgresql';
import type { AttemptThrottle, PasswordHasher, TokenIssuer } from './application/ports.ts';
import { createGetCustomers } from './application/get-customers.ts';
import { createGetPricingTier } from './application/get-pricing-tier.ts';
import { createListCustomers } from './application/list-customers.ts';
import { createRegisterCustomer } from './application/register-customer.ts';
import { createSetCustomerTier } from './application/set-customer-tier.ts';
import { createSignIn } from './application/sign-in.ts';
import { createSignUp } from './application/sign-up.ts';
import { CustomerRecord } from './infrastructure/customer.entity.ts';
import { MikroOrmCustomerRepository } from './infrastructure/mikro-orm-customer-repository.ts';

export type { Customer, CustomerTier } from './domain/customer.ts';
export { CUSTOMER_TIERS, TIER_DISCOUNT_PERCENT, discountPercentOf } from './domain/customer.ts';
export type { AttemptThrottle, AuthSession, PasswordHasher, TokenIssuer } from './application/ports.ts';
export type { RegisterCustomerInput } from './application/register-customer.ts';
export { InvalidCredentialsError, RateLimitedError } from './application/sign-in.ts';
export { Argon2PasswordHasher, createPasswordHasher } from './infrastructure/argon2-password-hasher.ts';
export {
  JoseTokenService,
  createTokenService,
  type Authentication,
  type ExternalIssuer,
  type TokenService,
  type TokenServiceOptions,
} from './infrastructure/jose-token-service.ts';
export { registerCustomersGraphQL, type CustomersRefs } from './graphql/customer.ts';

/** MikroORM entity schemas of the customers module, for the ORM set-up. */
export const customersEntities = [CustomerRecord] as const;

/**
 * The customers module's use cases over one EntityManager fork (one request, or one transaction).
 * Each takes the operation context first. `passwords` and `tokens` are process-wide singletons;
 * `signInThrottle`, when given, counts this caller's sign-in attempts.
 */
export function createCustomersUseCases(
  em: EntityManager,
  deps: { passwords: PasswordHasher; tokens: TokenIssuer; signInThrottle?: AttemptThrottle | undefined },
) {
  const customers = new MikroOrmCustomerRepository(em);
  const { passwords, tokens } = deps;
  return {
    signUp: createSignUp({ customers, passwords, tokens }),
    signIn: createSignIn({ customers, passwords, tokens, throttle: deps.signInThrottle }),
    getCustomers: createGetCustomers({ customers }),
    listCustomers: createListCustomers({ customers }),
    setCustomerTier: createSetCustomerTier({ customers }),
    getPricingTier: createGetPricingTier({ customers }),
    registerCustomer: createRegisterCustomer({ customers, passwords }),
  };
}
export type CustomersUseCases = ReturnType<typeof createCustomersUseCases>;
