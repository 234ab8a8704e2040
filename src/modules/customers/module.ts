import type { ModuleDescriptor } from '../module-descriptor.ts';
import { inertChangeFeed, type ChangeFeed } from '../../platform/change-feed.ts';
import type { OpContext } from '../../platform/op-context.ts';
import type { RequestScope } from '../../platform/request-scope.ts';
import type { Result } from '../../platform/result.ts';
import { createCustomersApi, type CustomersApi } from './application/api.ts';
import type { AttemptThrottle, PasswordHasher } from './application/ports.ts';
import type { Customer } from './domain/customer.ts';
import { registerCustomersGraphQL } from './graphql/index.ts';
import { createPasswordHasher } from './infrastructure/argon2-password-hasher.ts';
import { CustomerRecord } from './infrastructure/customer.entity.ts';
import { createTokenService, type Authentication, type TokenService, type TokenServiceOptions } from './infrastructure/jose-token-service.ts';
import { Migration20261121000100Customers } from './infrastructure/migrations/Migration20261121000100Customers.ts';
import { MikroOrmCustomerRepository } from './infrastructure/mikro-orm-customer-repository.ts';
import { IdempotencyKeyRecord } from './infrastructure/idempotency-key.entity.ts';
import { MikroOrmIdempotentCustomerWrites, startIdempotencyKeyPruner } from './infrastructure/mikro-orm-idempotent-writes.ts';
import { Migration20261204000500CustomersIdempotencyKeys } from './infrastructure/migrations/Migration20261204000500CustomersIdempotencyKeys.ts';

// What the composition root, scripts and tests wire by hand (token keys, password hashing).
export { createPasswordHasher } from './infrastructure/argon2-password-hasher.ts';
export { createTokenService, DEV_KEY_FILE, JoseTokenService, type Authentication, type ExternalIssuer, type TokenService, type TokenServiceOptions } from './infrastructure/jose-token-service.ts';

/** MikroORM entity schemas of the customers module (also for tooling: migrations, seeding). */
export const customersEntities = [CustomerRecord, IdempotencyKeyRecord] as const;
/** The customers module's migrations, named as they are recorded in `mikro_orm_migrations`. */
export const customersMigrations = [
  { name: 'Migration20261121000100Customers', class: Migration20261121000100Customers },
  { name: 'Migration20261204000500CustomersIdempotencyKeys', class: Migration20261204000500CustomersIdempotencyKeys },
] as const;

/** The customers descriptor, plus the token check the transport needs (after `start`). */
export interface CustomersModule extends ModuleDescriptor<'customers', CustomersApi> {
  /** Verifies a bearer token; undefined when it is not valid. Throws before `start` has run. */
  authenticate(token: string): Promise<Authentication | undefined>;
}

/** What the customers module is made from. */
export interface CustomersModuleDeps {
  /** Signing and verification keys, issuer, audience, lifetime (config `auth`). */
  readonly tokens: TokenServiceOptions;
  /** This scope's caller's sign-in attempt counter (rate limits), if any. */
  readonly signInThrottleFor: (scope: RequestScope) => AttemptThrottle | undefined;
  readonly passwords?: PasswordHasher;
  /** Where committed account writes are published, for the response cache (ADR 0015; default: none). */
  readonly changes?: ChangeFeed;
}

/**
 * The customers API whose account writes (sign-up, registration, tier changes), once committed,
 * publish the account on the change feed: every instance's response cache forgets it (ADR 0015).
 */
function publishingWrites(api: CustomersApi, changes: ChangeFeed): CustomersApi {
  const published =
    <I, T, E>(write: (op: OpContext, input: I) => Promise<Result<T, E>>, customerOf: (value: T) => Customer) =>
    async (op: OpContext, input: I): Promise<Result<T, E>> => {
      const result = await write(op, input);
      if (result.ok) changes.publish([{ kind: 'customer', customerId: customerOf(result.value).id }]);
      return result;
    };
  const itself = (customer: Customer) => customer;
  return {
    ...api,
    signUp: published(api.signUp, (session) => session.customer),
    registerCustomer: published(api.registerCustomer, itself),
    setCustomerTier: published(api.setCustomerTier, itself),
  };
}

/**
 * The customers module: accounts, pricing tiers, sign-up and sign-in; its background worker prunes
 * expired idempotency keys (ADR 0013). The token service loads or creates its signing keys in
 * `start`, so building the descriptor reads no file.
 */
export function createCustomersModule(deps: CustomersModuleDeps): CustomersModule {
  const passwords = deps.passwords ?? createPasswordHasher();
  const changes = deps.changes ?? inertChangeFeed;
  let tokens: TokenService | undefined;
  const started = (): TokenService => {
    if (!tokens) throw new Error('the customers module is not started (its token service loads keys in start())');
    return tokens;
  };
  return {
    name: 'customers',
    entities: customersEntities,
    migrations: customersMigrations,
    async start() {
      tokens ??= await createTokenService(deps.tokens);
    },
    forRequest: (scope) =>
      publishingWrites(
        createCustomersApi({
          customers: new MikroOrmCustomerRepository(scope.em),
          writes: new MikroOrmIdempotentCustomerWrites(scope.em),
          passwords,
          tokens: started(),
          signInThrottle: deps.signInThrottleFor(scope),
        }),
        changes,
      ),
    graphql: (builder, refs) => registerCustomersGraphQL(builder, refs.common),
    authenticate: (token) => started().authenticate(token),
    workers: (runtime) => [startIdempotencyKeyPruner({ em: runtime.fork, logger: runtime.logger.child({ component: 'customers-idempotency-pruner' }) })],
  };
}
