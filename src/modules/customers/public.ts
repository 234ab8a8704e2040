// The customers module's contract for other modules: types, use-case signatures and errors.
// Wiring (entity schemas, repositories, token service, GraphQL registration) is module.ts, for the
// composition root only.
export type { Customer, CustomerTier } from './domain/customer.ts';
export { CUSTOMER_TIERS, TIER_DISCOUNT_PERCENT, discountPercentOf } from './domain/customer.ts';
export type { AttemptThrottle, AuthSession, PasswordHasher, TokenIssuer } from './application/ports.ts';
export type { CustomersApi } from './application/api.ts';
export type { GetCustomers } from './application/get-customers.ts';
export type { GetPricingTier } from './application/get-pricing-tier.ts';
export type { RegisterCustomerInput } from './application/register-customer.ts';
export { InvalidCredentialsError, RateLimitedError } from './application/sign-in.ts';
