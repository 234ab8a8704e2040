// What the SDL-first contestants (A, A+, M: bench/contestants/apollo.ts, apollo-dataloader.ts,
// mercurius.ts) share: the schema's read types, the resolvers that map a `pg` row to its fields,
// and the two read queries (S1's order, S2's keyset page). Each contestant adds only what it is
// measured for: how relations are fetched (a query per field, DataLoaders, Mercurius loaders) and
// its server. The encodings come from bench/lib/shapes.ts, which every contestant must match.
import type pg from 'pg';
import type { TokenViewer } from './jwt.ts';
import { decodeCursor, encodeCursor, formatMinor, globalId, parseGlobalId } from './shapes.ts';

/** The read side of the schema, as Ordergraph's schema names it; without the root types. */
export const SDL_TYPES = `
  scalar DateTime
  enum OrderStatus { PENDING PAID PAYMENT_FAILED SHIPPED DELIVERED CANCELLED }
  enum CustomerTier { BASIC PREMIUM ENTERPRISE }
  enum PaymentStatus { PENDING SUCCEEDED DECLINED VOIDED REFUNDED }
  type Money { amount: String! currency: String! }
  type Customer { id: ID! name: String! email: String! tier: CustomerTier! }
  type Product { id: ID! sku: String! name: String! price: Money! }
  type Payment { status: PaymentStatus! }
  type OrderLine { product: Product! productName: String! quantity: Int! unitPrice: Money! lineTotal: Money! }
  type Order {
    id: ID! number: Int! status: OrderStatus! version: Int! discountPercent: Int!
    subtotal: Money! discount: Money! total: Money! createdAt: DateTime! updatedAt: DateTime!
    customer: Customer! lines: [OrderLine!]! payment: Payment
  }
  type OrderEdge { cursor: String! node: Order! }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type OrderConnection { edges: [OrderEdge!]! pageInfo: PageInfo! }
`;

/** The Query root type (S1 and S2). */
export const SDL_QUERY = `
  type Query { order(id: ID!): Order orders(first: Int, after: String): OrderConnection! }
`;

/** A row as `pg` returns it (snake_case columns; bigint and numeric as strings). */
export type Row = Record<string, any>;

/** Money from minor units, formatted as Ordergraph's `Money` (bench/lib/shapes.ts). */
export const money = (minor: string | number, currency = 'USD') => ({ amount: formatMinor(Number(minor)), currency });

/** Whether `viewer` may read `order`: its owner or an admin (Ordergraph's rule); a missing order is not visible. */
export const visible = (viewer: TokenViewer | null, order: Row | undefined) => !!order && !!viewer && (viewer.role === 'ADMIN' || order.customer_id === viewer.customerId);

/**
 * The row → field resolvers of every type, without relations (each contestant fetches those its
 * own way). Fields named as their column need none.
 */
export const rowFieldResolvers = {
  Order: {
    id: (order: Row) => globalId('Order', order.id),
    number: (order: Row) => Number(order.number),
    discountPercent: (order: Row) => order.discount_percent,
    subtotal: (order: Row) => money(order.subtotal_minor, order.currency),
    discount: (order: Row) => money(order.discount_minor, order.currency),
    total: (order: Row) => money(order.total_minor, order.currency),
    createdAt: (order: Row) => (order.created_at as Date).toISOString(),
    updatedAt: (order: Row) => (order.updated_at as Date).toISOString(),
  },
  OrderLine: {
    productName: (line: Row) => line.product_name,
    unitPrice: (line: Row) => money(line.unit_price_minor),
    lineTotal: (line: Row) => money(line.line_total_minor),
  },
  Customer: { id: (customer: Row) => globalId('Customer', customer.id) },
  Product: {
    id: (product: Row) => globalId('Product', product.id),
    price: (product: Row) => money(product.price_minor),
  },
};

/**
 * Rows of `table` whose `column` is one of `keys` (uuids; duplicates sent once), in one
 * statement, grouped by that column; `orderBy` orders the rows within each group.
 */
export async function rowsBy(pool: pg.Pool, table: string, column: string, keys: readonly string[], orderBy = ''): Promise<Map<string, Row[]>> {
  const { rows } = await pool.query(`select * from ${table} where ${column} = any($1::uuid[])${orderBy ? ` order by ${orderBy}` : ''}`, [[...new Set(keys)]]);
  const byKey = new Map<string, Row[]>();
  for (const row of rows) {
    const key = row[column] as string;
    const list = byKey.get(key);
    if (list) list.push(row);
    else byKey.set(key, [row]);
  }
  return byKey;
}

/**
 * The two read queries, one statement each: `order` (S1; null when absent, not an Order id or not
 * the viewer's) and `orders` (S2; newest first, keyset-paged, at most 100, the viewer's own unless
 * admin). `fail(message, code)` builds the GraphQL error the contestant's server reports with that
 * `extensions.code` (UNAUTHENTICATED without a viewer, VALIDATION_FAILED for a bad cursor).
 */
export function readQueryResolvers(pool: pg.Pool, fail: (message: string, code: 'UNAUTHENTICATED' | 'VALIDATION_FAILED') => Error) {
  return {
    order: async (_: unknown, args: { id: string }, { viewer }: { viewer: TokenViewer | null }) => {
      const id = parseGlobalId(args.id, 'Order');
      if (!id) return null;
      const { rows } = await pool.query('select * from orders where id = $1', [id]);
      return visible(viewer, rows[0]) ? rows[0] : null;
    },
    orders: async (_: unknown, args: { first?: number; after?: string }, { viewer }: { viewer: TokenViewer | null }) => {
      if (!viewer) throw fail('Sign in to do this', 'UNAUTHENTICATED');
      const first = Math.min(args.first ?? 20, 100);
      const cursor = args.after ? decodeCursor(args.after) : undefined;
      if (args.after && !cursor) throw fail('Invalid cursor', 'VALIDATION_FAILED');
      const params: unknown[] = [first + 1];
      const where: string[] = [];
      if (cursor) {
        params.push(cursor.createdAt, cursor.id);
        where.push('(created_at, id) < ($2, $3)');
      }
      if (viewer.role !== 'ADMIN') {
        params.push(viewer.customerId);
        where.push(`customer_id = $${params.length}`);
      }
      const { rows } = await pool.query(`select * from orders ${where.length ? `where ${where.join(' and ')}` : ''} order by created_at desc, id desc limit $1`, params);
      const edges = rows.slice(0, first).map((row) => ({ cursor: encodeCursor(row.created_at, row.id), node: row }));
      return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
    },
  };
}
