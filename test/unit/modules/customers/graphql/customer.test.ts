import { describe, it, expect } from 'vitest';
import { graphql, printSchema, type GraphQLSchema } from 'graphql';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createBuilder } from '../../../../../src/graphql/builder.ts';
import { registerCommonTypes } from '../../../../../src/graphql/common.ts';
import type { GraphQLContext } from '../../../../../src/graphql/context.ts';
import type { OpContext } from '../../../../../src/platform/op-context.ts';
import { createGetCustomers } from '../../../../../src/modules/customers/application/get-customers.ts';
import { createGetPricingTier } from '../../../../../src/modules/customers/application/get-pricing-tier.ts';
import { createListCustomers } from '../../../../../src/modules/customers/application/list-customers.ts';
import { createRegisterCustomer } from '../../../../../src/modules/customers/application/register-customer.ts';
import { createSetCustomerTier } from '../../../../../src/modules/customers/application/set-customer-tier.ts';
import { createSignIn } from '../../../../../src/modules/customers/application/sign-in.ts';
import { createSignUp } from '../../../../../src/modules/customers/application/sign-up.ts';
import { FakePasswordHasher, FakeTokenIssuer, InMemoryCustomerRepository, ops } from '../../../../fakes/customers.ts';
import { InMemoryIdempotentCustomerWrites } from '../../../../fakes/customers-idempotency.ts';
import type { CustomersApi } from '../../../../../src/modules/customers/public.ts';
import { registerCustomersGraphQL } from '../../../../../src/modules/customers/graphql/index.ts';

// Pothos runs outside vite and loads graphql's CommonJS build; vite would hand this file the ESM
// build, a second copy whose GraphQLSchema the first rejects. Take the copy Pothos uses.


function buildSchema(): GraphQLSchema {
  const builder = createBuilder();
  const common = registerCommonTypes(builder);
  registerCustomersGraphQL(builder, common);
  // The shared Subscription type needs one field to be valid; other modules supply it in the app.
  builder.subscriptionField('tick', (t) => t.int({ subscribe: async function* () {}, resolve: (n: number) => n }));
  return builder.toSchema();
}

const schema = buildSchema();

function setup() {
  const customers = new InMemoryCustomerRepository();
  const passwords = new FakePasswordHasher();
  const tokens = new FakeTokenIssuer();
  const writes = new InMemoryIdempotentCustomerWrites(customers);
  const useCases: CustomersApi = {
    signUp: createSignUp({ customers, passwords, tokens, writes }),
    signIn: createSignIn({ customers, passwords, tokens }),
    getCustomers: createGetCustomers({ customers }),
    listCustomers: createListCustomers({ customers }),
    setCustomerTier: createSetCustomerTier({ customers, writes }),
    getPricingTier: createGetPricingTier({ customers }),
    registerCustomer: createRegisterCustomer({ customers, passwords }),
  };
  const ada = customers.seed({ email: 'ada@example.com', name: 'Ada', tier: 'PREMIUM' }, 'correct horse');
  const bob = customers.seed({ email: 'bob@example.com', name: 'Bob' });
  // A fresh context per operation, as the app builds them (DataLoaders are keyed by it).
  const run = async (op: OpContext, source: string, variableValues?: Record<string, unknown>) =>
    graphql({ schema, source, variableValues, contextValue: { op, customers: useCases } as unknown as GraphQLContext });
  return { customers, ada, bob, run };
}

const gid = (id: string) => encodeGlobalID('Customer', id);

describe('customers GraphQL schema', () => {
  it('declares the result unions and the AuthPayload', () => {
    const sdl = printSchema(schema);
    expect(sdl).toContain('union SignUpResult = IdempotencyKeyReusedError | SignUpSuccess | ValidationError');
    const signInMembers = /union SignInResult = ([\w |]+)/.exec(sdl)?.[1]?.split(' | ').sort();
    expect(signInMembers).toEqual(['InvalidCredentialsError', 'RateLimitedError', 'SignInSuccess', 'ValidationError']);
    expect(sdl).toMatch(/type RateLimitedError implements Error \{[^}]*retryAfterSeconds: Int!/s);
    expect(sdl).toMatch(/type SignInSuccess \{\s+auth: AuthPayload!\s+\}/);
    expect(sdl).toMatch(/type AuthPayload \{[^}]*accessToken: String![^}]*customer: Customer![^}]*expiresAt: DateTime!/s);
    expect(sdl).toContain('enum CustomerTier');
    expect(sdl).toMatch(/me: Customer\n/);
  });
});

describe('me and node', () => {
  it('gives a customer their own account with the tier discount', async () => {
    const { ada, run } = setup();
    const result = await run(ops.customer(ada.id), '{ me { id email name tier role discountPercent } }');
    expect(result).toEqual({ data: { me: { id: gid(ada.id), email: 'ada@example.com', name: 'Ada', tier: 'PREMIUM', role: 'CUSTOMER', discountPercent: 10 } } });
  });

  it('is null for anonymous callers', async () => {
    const { run } = setup();
    expect(await run(ops.anonymous(), '{ me { id } }')).toEqual({ data: { me: null } });
  });

  it("resolves another customer's node to null, exactly like a missing one", async () => {
    const { ada, bob, run } = setup();
    const query = 'query ($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } }';
    const result = await run(ops.customer(ada.id), query, { a: gid(bob.id), b: gid(crypto.randomUUID()) });
    expect(result).toEqual({ data: { a: null, b: null } });
    const asAdmin = await run(ops.admin(), query, { a: gid(bob.id), b: gid(ada.id) });
    expect(asAdmin).toEqual({ data: { a: { id: gid(bob.id) }, b: { id: gid(ada.id) } } });
  });
});

describe('customers connection', () => {
  it('lists accounts for an admin', async () => {
    const { run } = setup();
    const result = await run(ops.admin(), '{ customers(first: 10) { totalCount edges { node { email } } } }');
    expect(result.errors).toBeUndefined();
    expect(result.data?.customers).toEqual({ totalCount: 2, edges: expect.arrayContaining([{ node: { email: 'bob@example.com' } }]) });
  });

  it.each([
    ['an anonymous caller', 'UNAUTHENTICATED', ops.anonymous()],
    ['a customer', 'FORBIDDEN', ops.customer(crypto.randomUUID())],
  ])('refuses %s with extensions.code %s', async (_label, code, op) => {
    const { run } = setup();
    const result = await run(op, '{ customers { edges { node { id } } } }');
    expect(result.data).toBeNull();
    expect(result.errors?.map((error) => error.extensions['code'])).toEqual([code]);
  });

  it('reports bad pagination arguments as VALIDATION_FAILED with the fields', async () => {
    const { run } = setup();
    const result = await run(ops.admin(), '{ customers(first: 500) { edges { cursor } } }');
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'VALIDATION_FAILED', fields: [{ path: ['first'], message: expect.any(String) }] });
  });
});

const SIGN_UP = `mutation ($input: SignUpInput!) {
  signUp(input: $input) {
    __typename
    ... on SignUpSuccess { auth { accessToken expiresAt customer { email tier } } }
    ... on ValidationError { code fields { path message } }
  }
}`;
const SIGN_IN = `mutation ($input: SignInInput!) {
  signIn(input: $input) {
    __typename
    ... on SignInSuccess { auth { accessToken customer { id } } }
    ... on Error { code message }
  }
}`;
const SET_TIER = `mutation ($input: SetCustomerTierInput!) {
  setCustomerTier(input: $input) {
    __typename
    ... on SetCustomerTierSuccess { customer { tier discountPercent } }
    ... on Error { code }
  }
}`;

describe('signUp', () => {
  it('answers with the account and a token', async () => {
    const { run } = setup();
    const result = await run(ops.anonymous(), SIGN_UP, { input: { email: 'New@Example.com', password: 'long enough', name: 'New' } });
    // As it goes over the wire: DateTime serializes to an ISO 8601 string.
    expect(JSON.parse(JSON.stringify(result.data?.signUp))).toEqual({
      __typename: 'SignUpSuccess',
      auth: { accessToken: expect.stringMatching(/^token:/), expiresAt: '2026-01-01T01:00:00.000Z', customer: { email: 'new@example.com', tier: 'BASIC' } },
    });
  });

  it('answers a taken e-mail with a ValidationError on email', async () => {
    const { run } = setup();
    const result = await run(ops.anonymous(), SIGN_UP, { input: { email: 'ada@example.com', password: 'long enough', name: 'Ada 2' } });
    expect(result.data?.signUp).toEqual({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', fields: [{ path: ['email'], message: 'is already registered' }] });
  });
});

describe('signIn', () => {
  it('answers the right password with a token', async () => {
    const { ada, run } = setup();
    const result = await run(ops.anonymous(), SIGN_IN, { input: { email: 'ada@example.com', password: 'correct horse' } });
    expect(result.data?.signIn).toEqual({ __typename: 'SignInSuccess', auth: { accessToken: `token:${ada.id}:CUSTOMER`, customer: { id: gid(ada.id) } } });
  });

  it('answers an unknown e-mail and a wrong password identically', async () => {
    const { run } = setup();
    const unknown = await run(ops.anonymous(), SIGN_IN, { input: { email: 'nobody@example.com', password: 'correct horse' } });
    const wrong = await run(ops.anonymous(), SIGN_IN, { input: { email: 'ada@example.com', password: 'wrong horse' } });
    expect(unknown.data?.signIn).toEqual({ __typename: 'InvalidCredentialsError', code: 'INVALID_CREDENTIALS', message: expect.any(String) });
    expect(wrong).toEqual(unknown);
  });
});

describe('setCustomerTier', () => {
  it('moves a customer for an admin', async () => {
    const { bob, run } = setup();
    const result = await run(ops.admin(), SET_TIER, { input: { customerId: gid(bob.id), tier: 'ENTERPRISE' } });
    expect(result.data?.setCustomerTier).toEqual({ __typename: 'SetCustomerTierSuccess', customer: { tier: 'ENTERPRISE', discountPercent: 20 } });
  });

  it.each([
    ['an anonymous caller', 'UnauthenticatedError', () => ops.anonymous()],
    ['a customer', 'ForbiddenError', (id: string) => ops.customer(id)],
  ])('refuses %s with %s, also for an id that does not decode', async (_label, typename, opFor) => {
    const { bob, run } = setup();
    for (const customerId of [gid(bob.id), 'garbage']) {
      const result = await run(opFor(bob.id), SET_TIER, { input: { customerId, tier: 'ENTERPRISE' } });
      expect(result.data?.setCustomerTier).toMatchObject({ __typename: typename });
    }
  });

  it.each([['garbage'], [encodeGlobalID('Product', '00000000-0000-4000-8000-000000000000')], [gid(crypto.randomUUID())]])(
    'answers NOT_FOUND for %s',
    async (customerId) => {
      const { run } = setup();
      const result = await run(ops.admin(), SET_TIER, { input: { customerId, tier: 'PREMIUM' } });
      expect(result.data?.setCustomerTier).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    },
  );
});
