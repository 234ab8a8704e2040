import { ValidationError, NotFoundError, ForbiddenError, UnauthenticatedError } from '../../../platform/errors.ts';
import { unwrap } from '../../../platform/result.ts';
import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import { parseGlobalId } from '../../../graphql/global-id.ts';
import { toGraphQLError } from '../../../graphql/errors.ts';
import { CUSTOMER_ROLES, CUSTOMER_TIERS, discountPercentOf, type Customer } from '../domain/customer.ts';
import type { AuthSession } from '../application/ports.ts';
import { InvalidCredentialsError, RateLimitedError } from '../application/sign-in.ts';

/**
 * Registers Customer with its queries (`me`, admin `customers`) and mutations (`signUp`, `signIn`,
 * admin `setCustomerTier`). Sign-up and sign-in answer with an `AuthPayload` under `auth`.
 * @returns the Customer and CustomerTier refs, for fields other modules add (a customer's orders).
 */
export function registerCustomersGraphQL(builder: Builder, common: CommonRefs) {
  const CustomerTierRef = builder.enumType('CustomerTier', {
    description: 'Pricing tier; each gives a fixed percent off order subtotals (see `Customer.discountPercent`).',
    values: CUSTOMER_TIERS,
  });
  const CustomerRoleRef = builder.enumType('CustomerRole', { values: CUSTOMER_ROLES });

  const CustomerRef = builder.loadableNode('Customer', {
    id: { resolve: (customer: Customer) => customer.id },
    // Accounts the viewer may not see load as null, exactly like ids that do not exist.
    load: (ids: string[], ctx) => ctx.customers.getCustomers(ctx.op, ids) as Promise<Customer[]>,
    fields: (t) => ({
      email: t.exposeString('email'),
      name: t.exposeString('name'),
      tier: t.expose('tier', { type: CustomerTierRef }),
      role: t.expose('role', { type: CustomerRoleRef }),
      discountPercent: t.int({
        description: 'Percent taken off the subtotal of orders this customer places now, from the tier.',
        resolve: (customer) => discountPercentOf(customer.tier),
      }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    }),
  });

  builder.objectType(InvalidCredentialsError, {
    name: 'InvalidCredentialsError',
    description: 'INVALID_CREDENTIALS: the e-mail or password is wrong (deliberately not saying which).',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof InvalidCredentialsError,
  });

  builder.objectType(RateLimitedError, {
    name: 'RateLimitedError',
    description: 'RATE_LIMITED: too many attempts from you; try again after `retryAfterSeconds`.',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof RateLimitedError,
    fields: (t) => ({
      retryAfterSeconds: t.exposeInt('retryAfterSeconds', { description: 'Whole seconds to wait before the next attempt.' }),
    }),
  });

  const AuthPayloadRef = builder.objectRef<AuthSession>('AuthPayload').implement({
    description: 'A signed-in session: send `accessToken` as `Authorization: Bearer <token>` until `expiresAt`.',
    fields: (t) => ({
      customer: t.field({ type: CustomerRef, resolve: (session) => session.customer }),
      accessToken: t.exposeString('accessToken'),
      expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    }),
  });

  builder.queryFields((t) => ({
    me: t.field({
      type: CustomerRef,
      nullable: true,
      description: 'The signed-in customer; null when anonymous.',
      resolve: async (_root, _args, ctx) => {
        if (ctx.op.viewer.kind !== 'customer') return null;
        const [customer] = await ctx.customers.getCustomers(ctx.op, [ctx.op.viewer.customerId]);
        return customer ?? null;
      },
    }),
    customers: t.connection({
      type: CustomerRef,
      description: 'Admin: every account, oldest first.',
      resolve: async (_root, args, ctx) => {
        const page = await ctx.customers.listCustomers(ctx.op, { first: args.first, after: args.after, last: args.last, before: args.before });
        if (!page.ok) throw toGraphQLError(page.error);
        return page.value;
      },
    }),
  }));

  const SignUpInput = builder.inputType('SignUpInput', {
    fields: (t) => ({
      email: t.string({ description: 'An e-mail address of at most 254 characters.' }),
      password: t.string({ description: '8–128 characters, spaces included; no composition rules, no control characters.' }),
      name: t.string({ description: '1–100 characters, one line.' }),
    }),
  });
  const SignInInput = builder.inputType('SignInInput', {
    fields: (t) => ({
      email: t.string({ description: 'At most 254 characters.' }),
      password: t.string({ description: 'At most 128 characters.' }),
    }),
  });
  const SetCustomerTierInput = builder.inputType('SetCustomerTierInput', {
    fields: (t) => ({
      customerId: t.id(),
      tier: t.field({ type: CustomerTierRef }),
    }),
  });

  builder.mutationFields((t) => ({
    signUp: t.field({
      type: AuthPayloadRef,
      description: 'Open a customer account (BASIC tier) and sign in to it.',
      args: { input: t.arg({ type: SignUpInput }) },
      errors: { types: [ValidationError], directResult: false, union: { name: 'SignUpResult' }, result: { name: 'SignUpSuccess' }, dataField: { name: 'auth' } },
      resolve: async (_root, { input }, ctx) =>
        unwrap(await ctx.customers.signUp(ctx.op, { email: input.email, password: input.password, name: input.name })),
    }),
    signIn: t.field({
      type: AuthPayloadRef,
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
    setCustomerTier: t.field({
      type: CustomerRef,
      description: "Admin: move a customer to another pricing tier; applies to orders placed afterwards.",
      args: { input: t.arg({ type: SetCustomerTierInput }) },
      errors: {
        types: [ValidationError, NotFoundError, ForbiddenError, UnauthenticatedError],
        union: { name: 'SetCustomerTierResult' },
        result: { name: 'SetCustomerTierSuccess' },
        dataField: { name: 'customer' },
      },
      resolve: async (_root, { input }, ctx) => {
        // An undecodable id goes on as one that no account has, so that authorization still comes
        // first: non-admins get FORBIDDEN / UNAUTHENTICATED, admins NOT_FOUND.
        const customerId = parseGlobalId(String(input.customerId), 'Customer') ?? '';
        return unwrap(await ctx.customers.setCustomerTier(ctx.op, { customerId, tier: input.tier }));
      },
    }),
  }));

  return { Customer: CustomerRef, CustomerTier: CustomerTierRef };
}

export type CustomersRefs = ReturnType<typeof registerCustomersGraphQL>;
