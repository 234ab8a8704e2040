// Contestant M, the fastest Node stack: Fastify 5 + Mercurius 16 with graphql-jit (`jit: 1`: a
// document is compiled on its second execution) and Mercurius loaders for every relation (an
// order's customer, lines and payment, a line's product): each loader gets every parent of one
// execution level at once and runs one `… = any($1::uuid[])` statement over `pg`. The loaders run
// uncached (`opts: { cache: false }`): their cache key is the serialised parent row, which never
// repeats within a request here, so caching would only add the serialisation (Mercurius' loaders
// docs). The token is checked in an `onRequest` hook through the verified-token cache every
// contestant uses (bench/lib/jwt.ts). Answers S1 and S2 (no placeOrder: S3 is R's and O's).
//
// Env: DATABASE_URL, POOL_MAX, PORT, JWT_PUBLIC_KEY (SPKI PEM), JWT_ISSUER, JWT_AUDIENCE.
import Fastify from 'fastify';
import mercurius, { type IResolvers, type MercuriusContext, type MercuriusLoaders } from 'mercurius';
import pg from 'pg';
import { createCachedEs256Verifier, type TokenViewer } from '../lib/jwt.ts';
import { decodeCursor, encodeCursor, formatMinor, globalId, parseGlobalId } from '../lib/shapes.ts';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });
const authenticate = createCachedEs256Verifier(process.env.JWT_PUBLIC_KEY!, { issuer: process.env.JWT_ISSUER ?? 'ordergraph', audience: process.env.JWT_AUDIENCE ?? 'ordergraph-api' });

const schema = `
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
  type Query { order(id: ID!): Order orders(first: Int, after: String): OrderConnection! }
`;

type Row = Record<string, any>;
// The context's viewer, as Mercurius' TypeScript docs extend its context type.
declare module 'mercurius' {
  interface MercuriusContext {
    viewer: TokenViewer | null;
  }
}

const money = (minor: string | number, currency = 'USD') => ({ amount: formatMinor(Number(minor)), currency });
const visible = (viewer: TokenViewer | null, order: Row | undefined) => !!order && !!viewer && (viewer.role === 'ADMIN' || order.customer_id === viewer.customerId);

/** Rows of `table` whose `column` is one of `keys`, in one statement, grouped by that column. */
async function rowsBy(table: string, column: string, keys: readonly string[], orderBy = ''): Promise<Map<string, Row[]>> {
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

const resolvers: IResolvers = {
  Query: {
    order: async (_: unknown, args: { id: string }, { viewer }: MercuriusContext) => {
      const id = parseGlobalId(args.id, 'Order');
      if (!id) return null;
      const { rows } = await pool.query('select * from orders where id = $1', [id]);
      return visible(viewer, rows[0]) ? rows[0] : null;
    },
    orders: async (_: unknown, args: { first?: number; after?: string }, { viewer }: MercuriusContext) => {
      if (!viewer) throw new mercurius.ErrorWithProps('Sign in to do this', { code: 'UNAUTHENTICATED' });
      const first = Math.min(args.first ?? 20, 100);
      const cursor = args.after ? decodeCursor(args.after) : undefined;
      if (args.after && !cursor) throw new mercurius.ErrorWithProps('Invalid cursor', { code: 'VALIDATION_FAILED' });
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
  },
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

type Queries = { obj: Row }[];
const uncached = { cache: false };
const loaders: MercuriusLoaders = {
  Order: {
    customer: {
      loader: async (queries: Queries) => {
        const found = await rowsBy('customers', 'id', queries.map(({ obj }) => obj.customer_id));
        return queries.map(({ obj }) => found.get(obj.customer_id)?.[0]);
      },
      opts: uncached,
    },
    lines: {
      loader: async (queries: Queries) => {
        const found = await rowsBy('order_lines', 'order_id', queries.map(({ obj }) => obj.id), 'order_id, position');
        return queries.map(({ obj }) => found.get(obj.id) ?? []);
      },
      opts: uncached,
    },
    // payments.order_id is unique: at most one payment per order.
    payment: {
      loader: async (queries: Queries) => {
        const found = await rowsBy('payments', 'order_id', queries.map(({ obj }) => obj.id));
        return queries.map(({ obj }) => found.get(obj.id)?.[0] ?? null);
      },
      opts: uncached,
    },
  },
  OrderLine: {
    product: {
      loader: async (queries: Queries) => {
        const found = await rowsBy('catalog_products', 'id', queries.map(({ obj }) => obj.product_id));
        return queries.map(({ obj }) => found.get(obj.product_id)?.[0]);
      },
      opts: uncached,
    },
  },
};

const app = Fastify({ logger: false });
app.decorateRequest('viewer', null);
app.addHook('onRequest', async (request, reply) => {
  const header = request.headers.authorization;
  if (!header) return;
  const viewer = authenticate(header);
  if (!viewer) return reply.code(401).send({ errors: [{ message: 'The access token is invalid or expired; sign in again', extensions: { code: 'UNAUTHENTICATED' } }] });
  (request as unknown as { viewer: TokenViewer }).viewer = viewer;
});
await app.register(mercurius, {
  schema,
  resolvers,
  loaders,
  jit: 1,
  graphiql: false,
  context: (request): Pick<MercuriusContext, 'viewer'> => ({ viewer: (request as unknown as { viewer: TokenViewer | null }).viewer }),
});
const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`listening ${new URL(address).port}\n`);
const stop = () => void app.close().then(() => pool.end()).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
