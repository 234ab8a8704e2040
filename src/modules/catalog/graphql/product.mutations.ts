import { ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from '../../../platform/errors.ts';
import { parseMinor } from '../../../platform/money.ts';
import { unwrap } from '../../../platform/result.ts';
import type { Builder } from '../../../graphql/builder.ts';
import { parseGlobalId } from '../../../graphql/global-id.ts';
import type { ProductRef } from './product.type.ts';

const mutationErrors = [ValidationError, NotFoundError, ForbiddenError, UnauthenticatedError];

/** Registers the inputs of the product mutations. */
function registerProductInputs(builder: Builder) {
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
  return { CreateProductInput, UpdateProductInput, AdjustStockInput };
}

/**
 * Registers the admin mutations `createProduct`, `updateProduct` and `adjustStock`; each answers a
 * result union of the product or a typed error.
 */
export function registerProductMutations(builder: Builder, Product: ProductRef, currency: string): void {
  const { CreateProductInput, UpdateProductInput, AdjustStockInput } = registerProductInputs(builder);
  const priceOf = (raw: string, path: string[]) => {
    const minor = parseMinor(raw, currency);
    if (minor === undefined) throw ValidationError.of(path, 'must be a decimal amount such as 19.99');
    return minor;
  };

  builder.mutationFields((t) => ({
    createProduct: t.field({
      type: Product,
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
      type: Product,
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
      type: Product,
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
}
