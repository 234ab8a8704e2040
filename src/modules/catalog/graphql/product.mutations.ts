import { ForbiddenError, IdempotencyKeyReusedError, NotFoundError, UnauthenticatedError, ValidationError } from '../../../platform/errors.ts';
import { parseMinor } from '../../../platform/money.ts';
import { unwrap } from '../../../platform/result.ts';
import type { Builder } from '../../../graphql/builder.ts';
import { parseGlobalId } from '../../../graphql/global-id.ts';
import type { ProductRef } from './product.type.ts';

/** The errors of the product mutations, each of which takes an idempotency key (ADR 0013). */
const idempotentMutationErrors = [ValidationError, NotFoundError, ForbiddenError, UnauthenticatedError, IdempotencyKeyReusedError];
/** The description of every `idempotencyKey` input field. */
const idempotencyKeyDescription =
  'Optional, a fresh key per intended change (a UUID; 1–255 characters, one line): a retry with the same key and input within 24 hours answers the first result without doing it again; the same key with other input is IDEMPOTENCY_KEY_REUSED.';

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
      idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    }),
  });
  const UpdateProductInput = builder.inputType('UpdateProductInput', {
    fields: (t) => ({
      productId: t.id(),
      name: t.string({ required: false, description: '1–200 characters, one line.' }),
      description: t.string({ required: false, description: 'At most 2,000 characters; line breaks allowed.' }),
      price: t.string({ required: false }),
      active: t.boolean({ required: false }),
      idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    }),
  });
  const AdjustStockInput = builder.inputType('AdjustStockInput', {
    fields: (t) => ({
      productId: t.id(),
      delta: t.int({ description: 'Units to add (positive) or remove (negative).' }),
      idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
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
      description: 'Admin: add a product. Idempotent with `idempotencyKey`.',
      args: { input: t.arg({ type: CreateProductInput }) },
      errors: { types: idempotentMutationErrors, union: { name: 'CreateProductResult' }, result: { name: 'CreateProductSuccess' }, dataField: { name: 'product' } },
      resolve: async (_root, { input }, ctx) =>
        unwrap(
          await ctx.catalog.createProduct(ctx.op, {
            sku: input.sku,
            name: input.name,
            ...(input.description != null ? { description: input.description } : {}),
            priceMinor: priceOf(input.price, ['input', 'price']),
            stock: input.stock,
            active: input.active ?? true,
            ...(input.idempotencyKey != null ? { idempotencyKey: input.idempotencyKey } : {}),
          }),
        ),
    }),
    updateProduct: t.field({
      type: Product,
      description: 'Admin: edit a product. Placed orders keep the price they captured. Idempotent with `idempotencyKey`.',
      args: { input: t.arg({ type: UpdateProductInput }) },
      errors: { types: idempotentMutationErrors, union: { name: 'UpdateProductResult' }, result: { name: 'UpdateProductSuccess' }, dataField: { name: 'product' } },
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
            ...(input.idempotencyKey != null ? { idempotencyKey: input.idempotencyKey } : {}),
          }),
        );
      },
    }),
    adjustStock: t.field({
      type: Product,
      description: 'Admin: add or remove units of stock atomically; never below zero. Idempotent with `idempotencyKey`.',
      args: { input: t.arg({ type: AdjustStockInput }) },
      errors: { types: idempotentMutationErrors, union: { name: 'AdjustStockResult' }, result: { name: 'AdjustStockSuccess' }, dataField: { name: 'product' } },
      resolve: async (_root, { input }, ctx) => {
        const id = parseGlobalId(String(input.productId), 'Product');
        if (!id) throw new NotFoundError('product');
        return unwrap(
          await ctx.catalog.adjustStock(ctx.op, {
            productId: id,
            delta: input.delta,
            ...(input.idempotencyKey != null ? { idempotencyKey: input.idempotencyKey } : {}),
          }),
        );
      },
    }),
  }));
}
