import { ValidationError, NotFoundError, ForbiddenError, UnauthenticatedError } from '../../../platform/errors.ts';
import { parseMinor } from '../../../platform/money.ts';
import { unwrap } from '../../../platform/result.ts';
import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import { parseGlobalId, requireGlobalId } from '../../../graphql/global-id.ts';
import { toGraphQLError } from '../../../graphql/errors.ts';
import type { Product } from '../domain/product.ts';

const mutationErrors = [ValidationError, NotFoundError, ForbiddenError, UnauthenticatedError];

/**
 * Registers Product with its queries (`product`, `products`) and admin mutations (`createProduct`,
 * `updateProduct`, `adjustStock`).
 * @returns the Product ref, for fields other modules add (order lines).
 */
export function registerCatalogGraphQL(builder: Builder, common: CommonRefs, options: { currency: string }) {
  const { currency } = options;

  const ProductRef = builder.loadableNode('Product', {
    id: { resolve: (product: Product) => product.id },
    // Missing ids resolve to null (not an error), like any node lookup.
    load: (ids: string[], ctx) => ctx.catalog.getProducts(ctx.op, ids) as Promise<Product[]>,
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

  const ProductOrderField = builder.enumType('ProductOrderField', { values: ['NAME', 'PRICE', 'CREATED_AT'] as const });
  const ProductOrder = builder.inputType('ProductOrder', {
    fields: (t) => ({
      field: t.field({ type: ProductOrderField }),
      direction: t.field({ type: common.OrderDirection, defaultValue: 'ASC' }),
    }),
  });
  const ProductFilter = builder.inputType('ProductFilter', {
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
      type: ProductRef,
      nullable: true,
      args: { id: t.arg.id() },
      resolve: async (_root, args, ctx) => {
        const [product] = await ctx.catalog.getProducts(ctx.op, [requireGlobalId(String(args.id), 'Product')]);
        return product ?? null;
      },
    }),
    products: t.connection({
      type: ProductRef,
      args: {
        filter: t.arg({ type: ProductFilter, required: false }),
        orderBy: t.arg({ type: ProductOrder, required: false }),
      },
      resolve: async (_root, args, ctx) => {
        const filter = args.filter ?? {};
        const priceIssues: { path: string[]; message: string }[] = [];
        const bound = (name: 'minPrice' | 'maxPrice') => {
          const raw = filter[name];
          if (raw == null) return undefined;
          const minor = parseMinor(raw, currency);
          if (minor === undefined) priceIssues.push({ path: ['filter', name], message: 'must be a decimal amount such as 19.99' });
          return minor;
        };
        const minPriceMinor = bound('minPrice');
        const maxPriceMinor = bound('maxPrice');
        if (priceIssues.length > 0) throw toGraphQLError(new ValidationError(priceIssues));
        const page = await ctx.catalog.listProducts(ctx.op, {
          first: args.first,
          after: args.after,
          last: args.last,
          before: args.before,
          filter: {
            ...(filter.search != null ? { search: filter.search } : {}),
            ...(filter.inStock != null ? { inStock: filter.inStock } : {}),
            ...(filter.active != null ? { active: filter.active } : {}),
            ...(minPriceMinor !== undefined ? { minPriceMinor } : {}),
            ...(maxPriceMinor !== undefined ? { maxPriceMinor } : {}),
          },
          ...(args.orderBy ? { orderBy: { field: args.orderBy.field, direction: args.orderBy.direction ?? 'ASC' } } : {}),
        });
        if (!page.ok) throw toGraphQLError(page.error);
        return page.value;
      },
    }),
  }));

  const CreateProductInput = builder.inputType('CreateProductInput', {
    fields: (t) => ({
      sku: t.string({ description: '2–40 upper-case letters, digits or dashes.' }),
      name: t.string({ description: '1–200 characters, one line.' }),
      description: t.string({ required: false, description: 'At most 2,000 characters; line breaks allowed.' }),
      price: t.string({ description: 'Unit price as a decimal string, e.g. "19.99".' }),
      stock: t.int(),
      active: t.boolean({ required: false, defaultValue: true }),
    }),
  });
  const UpdateProductInput = builder.inputType('UpdateProductInput', {
    fields: (t) => ({
      productId: t.id(),
      name: t.string({ required: false, description: '1–200 characters, one line.' }),
      description: t.string({ required: false, description: 'At most 2,000 characters; line breaks allowed.' }),
      price: t.string({ required: false }),
      active: t.boolean({ required: false }),
    }),
  });
  const AdjustStockInput = builder.inputType('AdjustStockInput', {
    fields: (t) => ({
      productId: t.id(),
      delta: t.int({ description: 'Units to add (positive) or remove (negative).' }),
    }),
  });

  const priceOf = (raw: string, path: string[]) => {
    const minor = parseMinor(raw, currency);
    if (minor === undefined) throw ValidationError.of(path, 'must be a decimal amount such as 19.99');
    return minor;
  };

  builder.mutationFields((t) => ({
    createProduct: t.field({
      type: ProductRef,
      description: 'Admin: add a product.',
      args: { input: t.arg({ type: CreateProductInput }) },
      errors: { types: mutationErrors, union: { name: 'CreateProductResult' }, result: { name: 'CreateProductSuccess' }, dataField: { name: 'product' } },
      resolve: async (_root, { input }, ctx) =>
        unwrap(
          await ctx.catalog.createProduct(ctx.op, {
            sku: input.sku,
            name: input.name,
            ...(input.description != null ? { description: input.description } : {}),
            priceMinor: priceOf(input.price, ['input', 'price']),
            stock: input.stock,
            active: input.active ?? true,
          }),
        ),
    }),
    updateProduct: t.field({
      type: ProductRef,
      description: 'Admin: edit a product. Placed orders keep the price they captured.',
      args: { input: t.arg({ type: UpdateProductInput }) },
      errors: { types: mutationErrors, union: { name: 'UpdateProductResult' }, result: { name: 'UpdateProductSuccess' }, dataField: { name: 'product' } },
      resolve: async (_root, { input }, ctx) => {
        const id = parseGlobalId(String(input.productId), 'Product');
        if (!id) throw new NotFoundError('product');
        return unwrap(
          await ctx.catalog.updateProduct(ctx.op, {
            id,
            ...(input.name != null ? { name: input.name } : {}),
            ...(input.description != null ? { description: input.description } : {}),
            ...(input.price != null ? { priceMinor: priceOf(input.price, ['input', 'price']) } : {}),
            ...(input.active != null ? { active: input.active } : {}),
          }),
        );
      },
    }),
    adjustStock: t.field({
      type: ProductRef,
      description: 'Admin: add or remove units of stock atomically; never below zero.',
      args: { input: t.arg({ type: AdjustStockInput }) },
      errors: { types: mutationErrors, union: { name: 'AdjustStockResult' }, result: { name: 'AdjustStockSuccess' }, dataField: { name: 'product' } },
      resolve: async (_root, { input }, ctx) => {
        const id = parseGlobalId(String(input.productId), 'Product');
        if (!id) throw new NotFoundError('product');
        return unwrap(await ctx.catalog.adjustStock(ctx.op, { productId: id, delta: input.delta }));
      },
    }),
  }));

  return { Product: ProductRef };
}

export type CatalogRefs = ReturnType<typeof registerCatalogGraphQL>;
