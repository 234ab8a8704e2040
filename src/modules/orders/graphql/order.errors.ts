import type { ObjectRef } from '@pothos/core';
import type { Builder } from '../../../graphql/builder.ts';
import type { CommonRefs } from '../../../graphql/common.ts';
import { CursorExpiredError, IllegalTransitionError, OutOfStockError, VersionConflictError } from '../domain/errors.ts';
import type { OrderStatusRef } from './order-status.type.ts';

/**
 * Registers the orders module's error types, members of the order mutations' result unions:
 * OutOfStockError, IllegalTransitionError and VersionConflictError (IdempotencyKeyReusedError is a
 * common type, ADR 0013); and
 * CursorExpiredError, which `orderStatusChanged` raises as a GraphQL error (`extensions.code`), the
 * type documenting the code.
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
  const CursorExpired = builder.objectType(CursorExpiredError, {
    name: 'CursorExpiredError',
    description:
      'CURSOR_EXPIRED: `orderStatusChanged(after:)` got a cursor older than the order log\'s retention window, so changes after it may be gone. Query the current state again, then subscribe without `after` (or with `snapshot: true` for one order). Raised as a GraphQL error with `extensions.code`.',
    interfaces: [common.Error],
    isTypeOf: (value) => value instanceof CursorExpiredError,
    fields: (t) => ({
      writtenAt: t.expose('writtenAt', { type: 'DateTime', description: 'When the change the cursor points at was written (whole seconds).' }),
      retentionSeconds: t.int({ description: 'How long the order log keeps changes.', resolve: (e) => Math.floor(e.retentionMs / 1_000) }),
    }),
  });
  return {
    CursorExpiredError: CursorExpired,
    OutOfStockError: OutOfStock,
    IllegalTransitionError: IllegalTransition,
    VersionConflictError: VersionConflict,
  };
}
