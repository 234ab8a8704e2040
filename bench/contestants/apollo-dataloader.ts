// Contestant A+, what a competent team ships with Apollo: Apollo Server 5 (standalone) with an SDL
// schema and one DataLoader per type and relation, created per request in the context function
// (customers by id, lines by order id, products by id, payments by order id): every loader batch is
// one `… = any($1::uuid[])` statement over `pg`, whatever the page size. The order itself (S1) and
// the keyset page (S2) are one statement each. The token is checked through the verified-token cache
// every contestant uses (bench/lib/jwt.ts). Answers S1 and S2 (no placeOrder: S3 is R's and O's).
// Production mode (NODE_ENV=production: no introspection, no landing page, no stack traces), and no
// per-field cache-control work (no cache hints in this API).
//
// Env: DATABASE_URL, POOL_MAX, PORT, JWT_PUBLIC_KEY (SPKI PEM), JWT_ISSUER, JWT_AUDIENCE.
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';
import pg from 'pg';
import { createCachedEs256Verifier, type TokenViewer } from '../lib/jwt.ts';
import { SDL_QUERY, SDL_TYPES, readQueryResolvers, rowFieldResolvers, rowsBy, type Row } from '../lib/sdl-schema.ts';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });
const authenticate = createCachedEs256Verifier(process.env.JWT_PUBLIC_KEY!, { issuer: process.env.JWT_ISSUER ?? 'ordergraph', audience: process.env.JWT_AUDIENCE ?? 'ordergraph-api' });

const typeDefs = `#graphql${SDL_TYPES}${SDL_QUERY}`;

/** The per-request loaders: a DataLoader batches the keys asked for in one tick into one statement. */
function createLoaders() {
  return {
    customer: new DataLoader<string, Row | undefined>(async (ids) => {
      const found = await rowsBy(pool, 'customers', 'id', ids);
      return ids.map((id) => found.get(id)?.[0]);
    }),
    product: new DataLoader<string, Row | undefined>(async (ids) => {
      const found = await rowsBy(pool, 'catalog_products', 'id', ids);
      return ids.map((id) => found.get(id)?.[0]);
    }),
    lines: new DataLoader<string, Row[]>(async (orderIds) => {
      const found = await rowsBy(pool, 'order_lines', 'order_id', orderIds, 'order_id, position');
      return orderIds.map((id) => found.get(id) ?? []);
    }),
    // payments.order_id is unique: at most one payment per order.
    payment: new DataLoader<string, Row | null>(async (orderIds) => {
      const found = await rowsBy(pool, 'payments', 'order_id', orderIds);
      return orderIds.map((id) => found.get(id)?.[0] ?? null);
    }),
  };
}

interface Context {
  viewer: TokenViewer | null;
  loaders: ReturnType<typeof createLoaders>;
}

const resolvers = {
  Query: readQueryResolvers(pool, (message, code) => new GraphQLError(message, { extensions: { code } })),
  Order: {
    ...rowFieldResolvers.Order,
    customer: (order: Row, _: unknown, { loaders }: Context) => loaders.customer.load(order.customer_id),
    lines: (order: Row, _: unknown, { loaders }: Context) => loaders.lines.load(order.id),
    payment: (order: Row, _: unknown, { loaders }: Context) => loaders.payment.load(order.id),
  },
  OrderLine: {
    ...rowFieldResolvers.OrderLine,
    product: (line: Row, _: unknown, { loaders }: Context) => loaders.product.load(line.product_id),
  },
  Customer: rowFieldResolvers.Customer,
  Product: rowFieldResolvers.Product,
};

// The cache-control plugin (installed by default) computes a cache policy per resolved field for
// HTTP caching headers; this API sends no cache hints, so a team tuning its server turns it off.
const server = new ApolloServer<Context>({ typeDefs, resolvers, plugins: [ApolloServerPluginCacheControlDisabled()] });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT ?? 0), host: '127.0.0.1' },
  context: async ({ req }): Promise<Context> => {
    const header = req.headers.authorization;
    const viewer = header ? authenticate(header) : null;
    if (header && !viewer) throw new GraphQLError('The access token is invalid or expired; sign in again', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
    return { viewer: viewer ?? null, loaders: createLoaders() };
  },
});
process.stdout.write(`listening ${new URL(url).port}\n`);
const stop = () => void server.stop().then(() => pool.end()).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
