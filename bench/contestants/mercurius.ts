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
import { SDL_QUERY, SDL_TYPES, readQueryResolvers, rowFieldResolvers, rowsBy, type Row } from '../lib/sdl-schema.ts';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });
const authenticate = createCachedEs256Verifier(process.env.JWT_PUBLIC_KEY!, { issuer: process.env.JWT_ISSUER ?? 'ordergraph', audience: process.env.JWT_AUDIENCE ?? 'ordergraph-api' });

const schema = `${SDL_TYPES}${SDL_QUERY}`;

// The context's viewer, as Mercurius' TypeScript docs extend its context type.
declare module 'mercurius' {
  interface MercuriusContext {
    viewer: TokenViewer | null;
  }
}

const resolvers: IResolvers = {
  Query: readQueryResolvers(pool, (message, code) => new mercurius.ErrorWithProps(message, { code })),
  ...rowFieldResolvers,
};

type Queries = { obj: Row }[];
const uncached = { cache: false };
const loaders: MercuriusLoaders = {
  Order: {
    customer: {
      loader: async (queries: Queries) => {
        const found = await rowsBy(pool, 'customers', 'id', queries.map(({ obj }) => obj.customer_id));
        return queries.map(({ obj }) => found.get(obj.customer_id)?.[0]);
      },
      opts: uncached,
    },
    lines: {
      loader: async (queries: Queries) => {
        const found = await rowsBy(pool, 'order_lines', 'order_id', queries.map(({ obj }) => obj.id), 'order_id, position');
        return queries.map(({ obj }) => found.get(obj.id) ?? []);
      },
      opts: uncached,
    },
    // payments.order_id is unique: at most one payment per order.
    payment: {
      loader: async (queries: Queries) => {
        const found = await rowsBy(pool, 'payments', 'order_id', queries.map(({ obj }) => obj.id));
        return queries.map(({ obj }) => found.get(obj.id)?.[0] ?? null);
      },
      opts: uncached,
    },
  },
  OrderLine: {
    product: {
      loader: async (queries: Queries) => {
        const found = await rowsBy(pool, 'catalog_products', 'id', queries.map(({ obj }) => obj.product_id));
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
