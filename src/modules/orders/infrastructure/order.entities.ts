import { defineEntity, p } from '@mikro-orm/postgresql';
import { ORDER_STATUSES } from '../domain/status-machine.ts';

// The entity schemas are the only place that names this module's tables and columns; property
// names are the domain's (Order, OrderLine, OrderStatusChange), so MikroORM's plain-object reads
// return domain values as they are. Relations inside the module are MikroORM relations (an order's
// lines and history). A column that points into another module's table (an order's customer, a
// line's product) is a plain id: a MikroORM relation would need that module's entity class, which
// ADR 0010 keeps out of reach (its infrastructure is its own), and another module's rows are read
// through its API and DataLoaders, under its rules, never by a join from here. The foreign keys
// themselves are in the migrations.

/** Row shape of `orders` (see the migrations). */
export const OrderRecord = defineEntity({
  name: 'OrderRecord',
  tableName: 'orders',
  properties: {
    id: p.uuid().primary(),
    number: p.bigint('number'),
    /** The customers module's customer (by id: see above). */
    customerId: p.uuid(),
    idempotencyKey: p.string(),
    requestHash: p.string(),
    status: p.enum(ORDER_STATUSES),
    currency: p.string(),
    subtotalMinor: p.bigint('number'),
    discountPercent: p.integer(),
    discountMinor: p.bigint('number'),
    totalMinor: p.bigint('number'),
    version: p.integer(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
    lines: () => p.oneToMany(OrderLineRecord).mappedBy('orderId'),
    history: () => p.oneToMany(OrderStatusChangeRecord).mappedBy('orderId'),
  },
});

/** Row shape of `order_lines`: an order's line, keyed by (order, position). */
export const OrderLineRecord = defineEntity({
  name: 'OrderLineRecord',
  tableName: 'order_lines',
  properties: {
    /** The order (a relation, read as its id). */
    orderId: () => p.manyToOne(OrderRecord).mapToPk().primary().fieldName('order_id'),
    position: p.integer().primary(),
    /** The catalog's product (by id: see above). */
    productId: p.uuid(),
    productName: p.string(),
    quantity: p.integer(),
    unitPriceMinor: p.bigint('number'),
    lineTotalMinor: p.bigint('number'),
  },
});

/** Row shape of `order_status_history`: one entry of an order's audit trail, keyed by (order, version). */
export const OrderStatusChangeRecord = defineEntity({
  name: 'OrderStatusChangeRecord',
  tableName: 'order_status_history',
  properties: {
    /** The order (a relation, read as its id). */
    orderId: () => p.manyToOne(OrderRecord).mapToPk().primary().fieldName('order_id'),
    version: p.integer().primary(),
    customerId: p.uuid(),
    from: p.enum(ORDER_STATUSES).nullable().fieldName('from_status'),
    to: p.enum(ORDER_STATUSES).fieldName('to_status'),
    actor: p.string().nullable(),
    reason: p.text().nullable(),
    at: p.datetime(),
  },
});
