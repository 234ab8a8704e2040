import { defineEntity, p } from '@mikro-orm/postgresql';

/** Row shape of `orders` (see src/migrations). */
export const OrderRecord = defineEntity({
  name: 'OrderRecord',
  tableName: 'orders',
  properties: {
    id: p.uuid().primary(),
    number: p.bigint('number'),
    customerId: p.uuid(),
    idempotencyKey: p.string(),
    requestHash: p.string(),
    status: p.string(),
    currency: p.string(),
    subtotalMinor: p.bigint('number'),
    discountPercent: p.integer(),
    discountMinor: p.bigint('number'),
    totalMinor: p.bigint('number'),
    version: p.integer(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});

/** Row shape of `order_lines`. */
export const OrderLineRecord = defineEntity({
  name: 'OrderLineRecord',
  tableName: 'order_lines',
  properties: {
    orderId: p.uuid().primary(),
    position: p.integer().primary(),
    productId: p.uuid(),
    productName: p.string(),
    quantity: p.integer(),
    unitPriceMinor: p.bigint('number'),
    lineTotalMinor: p.bigint('number'),
  },
});

/** Row shape of `order_status_history`. */
export const OrderStatusChangeRecord = defineEntity({
  name: 'OrderStatusChangeRecord',
  tableName: 'order_status_history',
  properties: {
    orderId: p.uuid().primary(),
    version: p.integer().primary(),
    customerId: p.uuid(),
    fromStatus: p.string().nullable(),
    toStatus: p.string(),
    actor: p.string().nullable(),
    reason: p.text().nullable(),
    at: p.datetime(),
  },
});
