import type { Builder } from '../../../graphql/builder.ts';
import { toGraphQLError } from '../../../graphql/errors.ts';
import { pageArgsOf } from '../../../graphql/selection.ts';
import { CUSTOMER_ROLES, CUSTOMER_TIERS, discountPercentOf, type Customer } from '../domain/customer.ts';

/**
 * Registers Customer as a Relay node loaded through a per-operation DataLoader (`node`, `nodes`,
 * `Order.customer` and `AuthPayload.customer` share it), with its CustomerTier and CustomerRole enums.
 * @returns the Customer and CustomerTier refs; an account the viewer may not see loads as null.
 */
export function registerCustomer(builder: Builder) {
  const CustomerTier = builder.enumType('CustomerTier', {
    description: 'Pricing tier; each gives a fixed percent off order subtotals (see `Customer.discountPercent`).',
    values: CUSTOMER_TIERS,
  });
  const CustomerRole = builder.enumType('CustomerRole', { values: CUSTOMER_ROLES });

  const Customer = builder.loadableNode('Customer', {
    id: { resolve: (customer: Customer) => customer.id },
    // getCustomers answers null for an account the viewer may not see, exactly as for a missing id;
    // `sort` keys the found ones by id again and gives null for the rest, so `node`/`nodes` answer
    // both with null, not an error.
    load: async (ids: string[], ctx) => (await ctx.customers.getCustomers(ctx.op, ids)).filter((customer) => customer !== null),
    sort: (customer: Customer) => customer.id,
    fields: (t) => ({
      email: t.exposeString('email'),
      name: t.exposeString('name'),
      tier: t.expose('tier', { type: CustomerTier }),
      role: t.expose('role', { type: CustomerRole }),
      discountPercent: t.int({
        description: 'Percent taken off the subtotal of orders this customer places now, from the tier.',
        resolve: (customer) => discountPercentOf(customer.tier),
      }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    }),
  });
  return { Customer, CustomerTier };
}

/** The Customer ref as {@link registerCustomer} returns it. */
export type CustomerRef = ReturnType<typeof registerCustomer>['Customer'];
/** The CustomerTier enum ref as {@link registerCustomer} returns it. */
export type CustomerTierRef = ReturnType<typeof registerCustomer>['CustomerTier'];

/** Registers the `me` and admin `customers` queries. */
export function registerCustomerQueries(builder: Builder, Customer: CustomerRef): void {
  builder.queryFields((t) => ({
    me: t.field({
      type: Customer,
      nullable: true,
      description: 'The signed-in customer; null when anonymous.',
      resolve: async (_root, _args, ctx) => {
        if (ctx.op.viewer.kind !== 'customer') return null;
        const [customer] = await ctx.customers.getCustomers(ctx.op, [ctx.op.viewer.customerId]);
        return customer ?? null;
      },
    }),
    customers: t.connection({
      type: Customer,
      description: 'Admin: every account, oldest first.',
      resolve: async (_root, args, ctx, info) => {
        const page = await ctx.customers.listCustomers(ctx.op, {
          ...pageArgsOf(args, info),
        });
        if (!page.ok) throw toGraphQLError(page.error);
        return page.value;
      },
    }),
  }));
}
