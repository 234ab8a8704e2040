import type { Builder } from '../../../graphql/builder.ts';
import type { AuthSession } from '../public.ts';
import type { CustomerRef } from './customer.type.ts';

/**
 * Registers AuthPayload, what `signUp` and `signIn` answer under `auth`: the session's customer and
 * its access token.
 */
export function registerAuthPayload(builder: Builder, Customer: CustomerRef) {
  return builder.objectRef<AuthSession>('AuthPayload').implement({
    description: 'A signed-in session: send `accessToken` as `Authorization: Bearer <token>` until `expiresAt`.',
    fields: (t) => ({
      customer: t.field({ type: Customer, resolve: (session) => session.customer }),
      accessToken: t.exposeString('accessToken'),
      expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    }),
  });
}

/** The AuthPayload ref as {@link registerAuthPayload} returns it. */
export type AuthPayloadRef = ReturnType<typeof registerAuthPayload>;
