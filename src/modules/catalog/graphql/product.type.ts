import { ValidationError } from '../../../platform/errors.ts';
import { parseMinor } from '../../../platform/money.ts';
import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import { toGraphQLError } from '../../../graphql/errors.ts';
import { requireGlobalId } from '../../../graphql/global-id.ts';
import { pageArgsOf } from '../../../graphql/selection.ts';
import type { Product } from '../domain/product.ts';
import type { ProductFilter } from '../public.ts';

/**
 * Registers Product as a Relay node loaded through a per-operation DataLoader (`node`, `nodes` and
 * every field that returns a product id, e.g. `OrderLine.product`, share it).
 * @returns the Product ref; a missing id loads as null.
 */
export function registerProduct(builder: Builder, common: CommonRefs, currency: string) {
  return builder.loadableNode('Product', {
    id: { resolve: (product: Product) => product.id },
    // getProducts answers null for a missing id; `sort` keys the found ones by id again and gives
    // null for the rest, so `node`/`nodes` answer a missing id with null, not an error.
    load: async (ids: string[], ctx) => (await ctx.catalog.getProducts(ctx.op, ids)).filter((product) => product !== null),
    sort: (product: Product) => product.id,
    fields: (t) => ({
      sku: t.exposeString('sku'),
      name: t.exposeString('name'),
      description: t.exposeString('description'),
      price: t.field({ type: common.Money, resolve: (product) => ({ minor: product.priceMinor, currency }) }),
      stock: t.exposeInt('stock', { description: 'Units available to order.' }),
      inStock: t.boolean({ resolve: (product) => product.stock > 0 }),
      active: t.exposeBoolean('active', { description: 'Inactive products cannot be ordered.' }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    }),
  });
}

/** The Product ref as {@link registerProduct} returns it. */
export type ProductRef = ReturnType<typeof registerProduct>;

/** The `products` filter argument as clients send it (prices as decimal strings). */
interface ProductFilterArg {
  readonly search?: string | null;
  readonly inStock?: boolean | null;
  readonly active?: boolean | null;
  readonly minPrice?: string | null;
  readonly maxPrice?: string | null;
}

/**
 * The use case's filter from the argument.
 * @throws GraphQLError VALIDATION_FAILED naming each price bound that is not a decimal amount.
 */
function toProductFilter(filter: ProductFilterArg, currency: string): ProductFilter {
  const issues: { path: string[]; message: string }[] = [];
  const bound = (name: 'minPrice' | 'maxPrice') => {
    const raw = filter[name];
    if (raw == null) return undefined;
    const minor = parseMinor(raw, currency);
    if (minor === undefined) issues.push({ path: ['filter', name], message: 'must be a decimal amount such as 19.99' });
    return minor;
  };
  const minPriceMinor = bound('minPrice');
  const maxPriceMinor = bound('maxPrice');
  if (issues.length > 0) throw toGraphQLError(new ValidationError(issues));
  return {
    ...(filter.search != null ? { search: filter.search } : {}),
    ...(filter.inStock != null ? { inStock: filter.inStock } : {}),
    ...(filter.active != null ? { active: filter.active } : {}),
    ...(minPriceMinor !== undefined ? { minPriceMinor } : {}),
    ...(maxPriceMinor !== undefined ? { maxPriceMinor } : {}),
  };
}

/** Registers the `product` and `products` queries with the ProductFilter and ProductOrder inputs. */
export function registerProductQueries(builder: Builder, common: CommonRefs, Product: ProductRef, currency: string): void {
  const ProductOrderField = builder.enumType('ProductOrderField', { values: ['NAME', 'PRICE', 'CREATED_AT'] as const });
  const ProductOrder = builder.inputType('ProductOrder', {
    fields: (t) => ({
      field: t.field({ type: ProductOrderField }),
      direction: t.field({ type: common.OrderDirection, defaultValue: 'ASC' }),
    }),
  });
  const ProductFilterInput = builder.inputType('ProductFilter', {
    fields: (t) => ({
      search: t.string({ required: false, description: 'Case-insensitive part of the name or SKU; at most 200 characters, one line.' }),
      inStock: t.boolean({ required: false }),
      active: t.boolean({ required: false, description: 'Admins only; everyone else sees active products.' }),
      minPrice: t.string({ required: false, description: 'Decimal amount, inclusive.' }),
      maxPrice: t.string({ required: false, description: 'Decimal amount, inclusive.' }),
    }),
  });

  builder.queryFields((t) => ({
    product: t.field({
      type: Product,
      nullable: true,
      args: { id: t.arg.id() },
      resolve: async (_root, args, ctx) => {
        const [product] = await ctx.catalog.getProducts(ctx.op, [requireGlobalId(String(args.id), 'Product')]);
        return product ?? null;
      },
    }),
    products: t.connection({
      type: Product,
      args: {
        filter: t.arg({ type: ProductFilterInput, required: false }),
        orderBy: t.arg({ type: ProductOrder, required: false }),
      },
      resolve: async (_root, args, ctx, info) => {
        const filter = toProductFilter(args.filter ?? {}, currency);
        const page = await ctx.catalog.listProducts(ctx.op, {
          ...pageArgsOf(args, info),
          filter,
          ...(args.orderBy ? { orderBy: { field: args.orderBy.field, direction: args.orderBy.direction ?? 'ASC' } } : {}),
        });
        if (!page.ok) throw toGraphQLError(page.error);
        return page.value;
      },
    }),
  }));
}
