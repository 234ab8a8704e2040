// Contestant A, what many teams would write instead: Apollo Server 5 (standalone) with an SDL
// schema and straightforward per-field resolvers that each run their own query, as tutorials
// write them: no DataLoader, `SELECT * … WHERE id = $1` for every customer and product,
// `SELECT * FROM order_lines WHERE order_id = $1` and `SELECT * FROM payments WHERE order_id = $1`
// for every order. The token is verified in the context function through the verified-token cache
// every contestant uses (bench/lib/jwt.ts); placeOrder runs in one transaction, a statement per step and per line.
// Production mode (NODE_ENV=production: no introspection, no landing page).
//
// Env: DATABASE_URL, POOL_MAX, PORT, JWT_PUBLIC_KEY (SPKI PEM), JWT_ISSUER, JWT_AUDIENCE.
import { createHash, randomUUID } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { GraphQLError } from 'graphql';
import pg from 'pg';
import { createCachedEs256Verifier, type TokenViewer } from '../lib/jwt.ts';
import { SDL_QUERY, SDL_TYPES, readQueryResolvers, rowFieldResolvers, type Row } from '../lib/sdl-schema.ts';
import { DECLINE_ABOVE_MINOR, TIER_DISCOUNT, parseGlobalId } from '../lib/shapes.ts';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });
const authenticate = createCachedEs256Verifier(process.env.JWT_PUBLIC_KEY!, { issuer: process.env.JWT_ISSUER ?? 'ordergraph', audience: process.env.JWT_AUDIENCE ?? 'ordergraph-api' });

const typeDefs = `#graphql${SDL_TYPES}${SDL_QUERY}
  interface Error { message: String! code: String! }
  type ValidationError implements Error { message: String! code: String! }
  type OutOfStockError implements Error { message: String! code: String! }
  type PlaceOrderSuccess { order: Order! }
  union PlaceOrderResult = PlaceOrderSuccess | ValidationError | OutOfStockError
  input OrderLineInput { productId: ID! quantity: Int! }
  input PlaceOrderInput { lines: [OrderLineInput!]! idempotencyKey: String! }
  type Mutation { placeOrder(input: PlaceOrderInput!): PlaceOrderResult! }
`;

interface Context {
  viewer: TokenViewer | null;
}

const unauthenticated = () => new GraphQLError('Sign in to do this', { extensions: { code: 'UNAUTHENTICATED' } });

const resolvers = {
  Query: readQueryResolvers(pool, (message, code) => new GraphQLError(message, { extensions: { code } })),
  Mutation: {
    placeOrder: async (_: unknown, { input }: { input: { lines: { productId: string; quantity: number }[]; idempotencyKey: string } }, { viewer }: Context) => {
      if (!viewer || viewer.role !== 'CUSTOMER') throw unauthenticated();
      const lines = input.lines.map((line) => ({ productId: parseGlobalId(line.productId, 'Product'), quantity: line.quantity }));
      if (lines.some((line) => !line.productId || line.quantity < 1 || line.quantity > 1000)) {
        return { __typename: 'ValidationError', message: 'Invalid lines', code: 'VALIDATION_FAILED' };
      }
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const customer = (await client.query('SELECT * FROM customers WHERE id = $1', [viewer.customerId])).rows[0];
        const products: Row[] = [];
        for (const line of lines) products.push((await client.query('SELECT * FROM catalog_products WHERE id = $1 AND active', [line.productId])).rows[0]!);
        if (!customer || products.some((p) => !p)) {
          await client.query('ROLLBACK');
          return { __typename: 'ValidationError', message: 'No such product', code: 'VALIDATION_FAILED' };
        }
        const subtotal = lines.reduce((sum, line, i) => sum + Number(products[i]!.price_minor) * line.quantity, 0);
        const pct = TIER_DISCOUNT[customer.tier as string] ?? 0;
        const discount = Math.floor((subtotal * pct + 50) / 100);
        const total = subtotal - discount;
        const at = new Date();
        const requestHash = createHash('sha256')
          .update([...lines].sort((a, b) => a.productId!.localeCompare(b.productId!)).map((l) => `${l.productId}:${l.quantity}`).join(','))
          .digest('hex');
        const orderId = randomUUID();
        await client.query(
          `INSERT INTO orders (id, customer_id, idempotency_key, request_hash, status, currency, subtotal_minor, discount_percent, discount_minor, total_minor, version, created_at, updated_at)
           VALUES ($1, $2, $3, $4, 'PENDING', 'USD', $5, $6, $7, $8, 1, $9, $9)`,
          [orderId, viewer.customerId, input.idempotencyKey, requestHash, subtotal, pct, discount, total, at],
        );
        // Stock in product-id order, so concurrent orders cannot deadlock.
        for (const line of [...lines].sort((a, b) => a.productId!.localeCompare(b.productId!))) {
          const reserved = await client.query('UPDATE catalog_products SET stock = stock - $1, updated_at = now() WHERE id = $2 AND stock >= $1', [line.quantity, line.productId]);
          if (reserved.rowCount === 0) {
            await client.query('ROLLBACK');
            return { __typename: 'OutOfStockError', message: 'Not enough stock', code: 'OUT_OF_STOCK' };
          }
        }
        for (const [i, line] of lines.entries()) {
          await client.query(
            'INSERT INTO order_lines (order_id, position, product_id, product_name, quantity, unit_price_minor, line_total_minor) VALUES ($1, $2, $3, $4, $5, $6, $7)',
            [orderId, i + 1, line.productId, products[i]!.name, line.quantity, products[i]!.price_minor, Number(products[i]!.price_minor) * line.quantity],
          );
        }
        const changes = [
          { version: 1, from: null, to: 'PENDING', actor: `customer:${viewer.customerId}` },
          { version: 2, from: 'PENDING', to: 'PAID', actor: 'system:payments' },
        ];
        // The simulated provider, in process: declines above 1000.00 (the harness never sends such totals).
        if (total > DECLINE_ABOVE_MINOR) throw new Error('declines are not part of the benchmark');
        await client.query(
          `INSERT INTO payments (id, order_id, idempotency_key, amount_minor, currency, status, provider_charge_id, created_at, updated_at, attempt_count, last_attempt_at)
           VALUES ($1, $2, $3, $4, 'USD', 'SUCCEEDED', $5, $6, $6, 1, $6)`,
          [randomUUID(), orderId, `order_${orderId}_charge`, total, `ch_apollo_${randomUUID().replaceAll('-', '').slice(0, 24)}`, at],
        );
        await client.query('UPDATE orders SET status = $1, version = 2, updated_at = $2 WHERE id = $3', ['PAID', at, orderId]);
        for (const change of changes) {
          await client.query(
            'INSERT INTO order_status_history (order_id, version, customer_id, from_status, to_status, actor, reason, at) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7)',
            [orderId, change.version, viewer.customerId, change.from, change.to, change.actor, at],
          );
          // Order log rows as Ordergraph writes them (tx_id: the column's default; A has no subscribers).
          await client.query('INSERT INTO outbox (topic, aggregate_id, customer_id, version, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
            'order-status-changed',
            orderId,
            viewer.customerId,
            change.version,
            JSON.stringify({ orderId, customerId: viewer.customerId, ...change, at: at.toISOString(), reason: null }),
            at,
          ]);
        }
        await client.query('COMMIT');
        const order = (await client.query('SELECT * FROM orders WHERE id = $1', [orderId])).rows[0];
        return { __typename: 'PlaceOrderSuccess', order };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  },
  PlaceOrderResult: { __resolveType: (value: { __typename: string }) => value.__typename },
  Error: { __resolveType: (value: { __typename: string }) => value.__typename },
  Order: {
    ...rowFieldResolvers.Order,
    customer: async (order: Row) => (await pool.query('SELECT * FROM customers WHERE id = $1', [order.customer_id])).rows[0],
    lines: async (order: Row) => (await pool.query('SELECT * FROM order_lines WHERE order_id = $1 ORDER BY position', [order.id])).rows,
    payment: async (order: Row) => (await pool.query('SELECT * FROM payments WHERE order_id = $1', [order.id])).rows[0] ?? null,
  },
  OrderLine: {
    ...rowFieldResolvers.OrderLine,
    product: async (line: Row) => (await pool.query('SELECT * FROM catalog_products WHERE id = $1', [line.product_id])).rows[0],
  },
  Customer: rowFieldResolvers.Customer,
  Product: rowFieldResolvers.Product,
};

const server = new ApolloServer<Context>({ typeDefs, resolvers });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT ?? 0), host: '127.0.0.1' },
  context: async ({ req }): Promise<Context> => {
    const header = req.headers.authorization;
    if (!header?.startsWith('Bearer ')) return { viewer: null };
    const viewer = authenticate(header);
    if (!viewer) throw new GraphQLError('The access token is invalid or expired; sign in again', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
    return { viewer };
  },
});
process.stdout.write(`listening ${new URL(url).port}\n`);
const stop = () => void server.stop().then(() => pool.end()).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
