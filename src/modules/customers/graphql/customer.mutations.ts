import { ForbiddenError, IdempotencyKeyReusedError, NotFoundError, UnauthenticatedError, ValidationError } from '../../../platform/errors.ts';
import { unwrap } from '../../../platform/result.ts';
import type { Builder } from '../../../graphql/builder.ts';
import { parseGlobalId } from '../../../graphql/global-id.ts';
import { InvalidCredentialsError, RateLimitedError } from '../public.ts';
import type { AuthPayloadRef } from './auth-payload.type.ts';
import type { CustomerRef, CustomerTierRef } from './customer.type.ts';

/** The description of every `idempotencyKey` input field (the catalog's wording, ADR 0013). */
const idempotencyKeyDescription =
  'Optional, a fresh key per intended change (a UUID; 1–255 characters, one line): a retry with the same key and input within 24 hours answers the first result without doing it again; the same key with other input is IDEMPOTENCY_KEY_REUSED.';

/** Registers `signUp` and `signIn`, which answer an AuthPayload under `auth` or a typed error. */
export function registerAuthMutations(builder: Builder, AuthPayload: AuthPayloadRef): void {
  const SignUpInput = builder.inputType('SignUpInput', {
    fields: (t) => ({
      email: t.string({ description: 'An e-mail address of at most 254 characters.' }),
      password: t.string({ description: '8–128 characters, spaces included; no composition rules, no control characters.' }),
      name: t.string({ description: '1–100 characters, one line.' }),
      idempotencyKey: t.string({
        required: false,
        description: `${idempotencyKeyDescription} Scoped to the e-mail: a replay answers the same account with a new token, and only for the same name and password.`,
      }),
    }),
  });
  const SignInInput = builder.inputType('SignInInput', {
    fields: (t) => ({
      email: t.string({ description: 'At most 254 characters.' }),
      password: t.string({ description: 'At most 128 characters.' }),
    }),
  });

  builder.mutationFields((t) => ({
    signUp: t.field({
      type: AuthPayload,
      description: 'Open a customer account (BASIC tier) and sign in to it. Idempotent with `idempotencyKey`.',
      args: { input: t.arg({ type: SignUpInput }) },
      errors: { types: [ValidationError, IdempotencyKeyReusedError], directResult: false, union: { name: 'SignUpResult' }, result: { name: 'SignUpSuccess' }, dataField: { name: 'auth' } },
      resolve: async (_root, { input }, ctx) =>
        unwrap(
          await ctx.customers.signUp(ctx.op, {
            email: input.email,
            password: input.password,
            name: input.name,
            ...(input.idempotencyKey != null ? { idempotencyKey: input.idempotencyKey } : {}),
          }),
        ),
    }),
    signIn: t.field({
      type: AuthPayload,
      description: 'Exchange an e-mail and password for an access token.',
      args: { input: t.arg({ type: SignInInput }) },
      errors: {
        types: [InvalidCredentialsError, ValidationError, RateLimitedError],
        directResult: false,
        union: { name: 'SignInResult' },
        result: { name: 'SignInSuccess' },
        dataField: { name: 'auth' },
      },
      resolve: async (_root, { input }, ctx) => unwrap(await ctx.customers.signIn(ctx.op, { email: input.email, password: input.password })),
    }),
  }));
}

/** Registers the admin mutation `setCustomerTier`. */
export function registerCustomerMutations(builder: Builder, refs: { readonly Customer: CustomerRef; readonly CustomerTier: CustomerTierRef }): void {
  const SetCustomerTierInput = builder.inputType('SetCustomerTierInput', {
    fields: (t) => ({
      customerId: t.id(),
      tier: t.field({ type: refs.CustomerTier }),
      idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    }),
  });

  builder.mutationField('setCustomerTier', (t) =>
    t.field({
      type: refs.Customer,
      description: 'Admin: move a customer to another pricing tier; applies to orders placed afterwards. Idempotent with `idempotencyKey`.',
      args: { input: t.arg({ type: SetCustomerTierInput }) },
      errors: {
        types: [ValidationError, NotFoundError, ForbiddenError, UnauthenticatedError, IdempotencyKeyReusedError],
        union: { name: 'SetCustomerTierResult' },
        result: { name: 'SetCustomerTierSuccess' },
        dataField: { name: 'customer' },
      },
      resolve: async (_root, { input }, ctx) => {
        // An undecodable id goes on as one that no account has, so that authorization still comes
        // first: non-admins get FORBIDDEN / UNAUTHENTICATED, admins NOT_FOUND.
        const customerId = parseGlobalId(String(input.customerId), 'Customer') ?? '';
        const idempotencyKey = input.idempotencyKey ?? undefined;
        return unwrap(await ctx.customers.setCustomerTier(ctx.op, { customerId, tier: input.tier, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) }));
      },
    }),
  );
}
