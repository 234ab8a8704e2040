import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import { InvalidCredentialsError, RateLimitedError } from '../public.ts';

/** Registers the error types of sign-in: InvalidCredentialsError and RateLimitedError. */
export function registerCustomerErrors(builder: Builder, common: CommonRefs) {
  const InvalidCredentials = builder.objectType(InvalidCredentialsError, {
    name: 'InvalidCredentialsError',
    description: 'INVALID_CREDENTIALS: the e-mail or password is wrong (deliberately not saying which).',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof InvalidCredentialsError,
  });
  const RateLimited = builder.objectType(RateLimitedError, {
    name: 'RateLimitedError',
    description: 'RATE_LIMITED: too many attempts from you; try again after `retryAfterSeconds`.',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof RateLimitedError,
    fields: (t) => ({
      retryAfterSeconds: t.exposeInt('retryAfterSeconds', { description: 'Whole seconds to wait before the next attempt.' }),
    }),
  });
  return { InvalidCredentialsError: InvalidCredentials, RateLimitedError: RateLimited };
}
