import type { ObjectRef } from '@pothos/core';
import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import { IdempotencyKeyReusedError, IllegalTransitionError, OutOfStockError, VersionConflictError } from '../domain/errors.ts';
import type { OrderStatusRef } from './order-status.type.ts';

/**
 * Registers the orders module's error types, members of the order mutations' result unions:
 * OutOfStockError, IllegalTransitionError, VersionConflictError and IdempotencyKeyReusedError.
 */
export function registerOrderErrors(
  builder: Builder,
  common: CommonRefs,
  // biome-ignore lint: another module's ref is opaque here
  refs: { readonly Product: ObjectRef<any, any>; readonly OrderStatus: OrderStatusRef },
) {
  const OutOfStock = builder.objectType(OutOfStockError, {
    name: 'OutOfStockError',
    description: 'OUT_OF_STOCK: not enough units of `product`; nothing was reserved or charged.',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof OutOfStockError,
    // Through the Product loader; null if the product is gone.
    fields: (t) => ({ product: t.field({ type: refs.Product, nullable: true, resolve: (e) => e.productId }) }),
  });
  const IllegalTransition = builder.objectType(IllegalTransitionError, {
    name: 'IllegalTransitionError',
    description: 'ILLEGAL_TRANSITION: the status machine does not allow this change.',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof IllegalTransitionError,
    fields: (t) => ({
      from: t.field({ type: refs.OrderStatus, resolve: (e) => e.from }),
      to: t.field({ type: refs.OrderStatus, resolve: (e) => e.to }),
    }),
  });
  const VersionConflict = builder.objectType(VersionConflictError, {
    name: 'VersionConflictError',
    description: 'VERSION_CONFLICT: the order changed since the version you sent; reload and retry.',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof VersionConflictError,
    fields: (t) => ({
      expectedVersion: t.exposeInt('expectedVersion'),
      actualVersion: t.exposeInt('actualVersion'),
    }),
  });
  const IdempotencyKeyReused = builder.objectType(IdempotencyKeyReusedError, {
    name: 'IdempotencyKeyReusedError',
    description: 'IDEMPOTENCY_KEY_REUSED: this key was used for a different order; use a new key per checkout.',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof IdempotencyKeyReusedError,
  });
  return {
    OutOfStockError: OutOfStock,
    IllegalTransitionError: IllegalTransition,
    VersionConflictError: VersionConflict,
    IdempotencyKeyReusedError: IdempotencyKeyReused,
  };
}
