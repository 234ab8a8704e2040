// Contestant P, the compiled-SQL approach: PostGraphile 5 over the same tables, used the way its
// documentation intends for a hand-shaped API. The Amber preset introspects the database at start
// (tables become @dataplan/pg resources), `schema.defaultBehavior: "-*"` keeps it from generating
// its own CRUD types, and one `extendSchema` plugin declares Ordergraph's types (Order, Customer,
// OrderLine, Product, Payment, Money, the orders connection) with Grafast plan resolvers over those
// resources. Grafast then plans each operation once per document and @dataplan/pg folds the nested
// `get`/`find` steps into the parent query: S1 and S2 are one SQL statement each (customer and
// payment as joins, lines → product as a subquery), sent as named prepared statements. Served by
// grafserv on node:http at POST /graphql, production mode: no GraphiQL, no schema introspection,
// no plan explain, unexpected errors masked (grafast runs in production mode unless GRAPHILE_ENV
// says otherwise, and says so on stderr at start). Authentication is the same ES256 check behind
// the same verified-token cache as every contestant (bench/lib/jwt.ts), in a grafserv
// `processRequest` middleware: a missing or invalid token is answered 401 before any GraphQL
// work, as R does.
//
// Where Ordergraph's shape is not PostGraphile's natural one (the plans say how):
// - ids: Relay global ids `base64("Type:uuid")`, not PostGraphile's node ids.
// - orders(first, after): Ordergraph's keyset cursor, base64url of JSON `[isoCreatedAt, id]` over
//   (created_at DESC, id DESC). PostGraphile's own cursors (base64 of `[orderDigest, ...values]`)
//   cannot carry it, so the connection type is declared here over the `pgSelect` step (which
//   still fetches one extra row for hasNextPage) and the `after` condition is added at run time
//   through `pgSelect.apply()`, as PostGraphile's own condition arguments are. PageInfo is
//   PostGraphile's built-in type (its cursors are of its `Cursor` scalar, a string on the wire).
// - DateTime: Ordergraph's `…T12:34:56.789Z` (UTC, milliseconds), not PostgreSQL's
//   `…T12:34:56.789000+00:00` that PostGraphile answers by default.
// - Money: `{ amount: "12.34", currency }` from the bigint minor units; lines and products carry no
//   currency column, Ordergraph answers its configured currency, "USD".
// - Visibility (a CUSTOMER sees only their own orders, others' ids answer `order: null`; ADMIN
//   sees all) is an app-level condition added at run time from the verified viewer, like R's and
//   O's; PostGraphile's RLS route (pgSettings → `set_config` in a transaction per request) would
//   need policies the other contestants do not have and three more statements per request.
// These are the API's shape, not normalisations: every field of S1 and S2 is byte-equal to R's
// answer (bench/check-postgraphile.ts checks it).
//
// Env: DATABASE_URL, POOL_MAX, PORT, JWT_PUBLIC_KEY (SPKI PEM), JWT_ISSUER, JWT_AUDIENCE.
import { createServer, type IncomingMessage } from 'node:http';
import pg from 'pg';
import { postgraphile } from 'postgraphile';
import { TYPES, type PgSelectQueryBuilder, type PgSelectSingleStep, type PgSelectStep } from 'postgraphile/@dataplan/pg';
import { makePgService } from 'postgraphile/adaptors/pg';
import { access, constant, context, first, inhibitOnNull, lambda, last, object, SafeError, type FieldArgs, type Step } from 'postgraphile/grafast';
import { NoSchemaIntrospectionCustomRule } from 'postgraphile/graphql';
import { grafserv } from 'postgraphile/grafserv/node';
import { sql } from 'postgraphile/pg-sql2';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { extendSchema } from 'postgraphile/utils';
import { createCachedEs256Verifier, type TokenViewer } from '../lib/jwt.ts';
import { decodeCursor, parseGlobalId } from '../lib/shapes.ts';

declare global {
  namespace Grafast {
    interface Context {
      /** The verified bearer token's viewer (the auth middleware refuses requests without one). */
      viewer?: TokenViewer;
    }
  }
}

/** Ordergraph's configured currency, which Money on lines and products carries (no column holds it). */
const CURRENCY = 'USD';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });
const authenticate = createCachedEs256Verifier(process.env.JWT_PUBLIC_KEY!, { issuer: process.env.JWT_ISSUER ?? 'ordergraph', audience: process.env.JWT_AUDIENCE ?? 'ordergraph-api' });
/** Viewer of each authenticated request, from the middleware to the GraphQL context. */
const viewers = new WeakMap<IncomingMessage, TokenViewer>();

const errorBody = (message: string, code: string) => Buffer.from(JSON.stringify({ errors: [{ message, extensions: { code } }] }));

/** Ordergraph's keyset cursor of an order row: base64url of JSON `[isoCreatedAt, id]` (shapes.ts's encodeCursor). */
const cursorOf = ([createdAt, id]: readonly [string, string]): string => Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');

/** A run-time `where` for `pgSelect.apply()`: a CUSTOMER viewer's rows only; none for ADMIN. */
function onlyVisibleTo(viewer: TokenViewer | undefined): ((qb: PgSelectQueryBuilder) => void) | null {
  if (viewer?.role === 'ADMIN') return null;
  // The auth middleware lets no request through without a viewer; refuse rather than show all.
  if (!viewer) throw new SafeError('The access token is invalid or expired; sign in again', { code: 'UNAUTHENTICATED' });
  return (qb) => qb.where(sql`${qb.alias}.customer_id = ${sql.value(viewer.customerId)}::uuid`);
}

/** The `after` cursor as a run-time keyset condition; a malformed cursor is a typed client error. */
function afterCursor(cursor: unknown): ((qb: PgSelectQueryBuilder) => void) | null {
  if (cursor == null) return null;
  const after = decodeCursor(cursor);
  if (!after) throw new SafeError('Invalid cursor', { code: 'VALIDATION_FAILED' });
  return (qb) => qb.where(sql`(${qb.alias}.created_at, ${qb.alias}.id) < (${sql.value(after.createdAt)}::timestamptz, ${sql.value(after.id)}::uuid)`);
}

/** Ordergraph's API shape over the introspected tables, as Grafast plans. */
const OrdergraphShapePlugin = extendSchema((build) => {
  const { orders, customers, order_lines: orderLines, catalog_products: products, payments } = build.pgResources;
  if (!orders || !customers || !orderLines || !products || !payments) throw new Error('the Ordergraph tables are missing from the introspected database');
  type Row = PgSelectSingleStep;
  // Values Ordergraph formats (global ids, money amounts, ISO timestamps) are SQL expressions on
  // the row (`$row.select`), computed by PostgreSQL in the same statement: a lambda per field
  // would add a step per row to Grafast's execution (about a quarter more CPU on S2).
  const column = ($row: Row, name: string) => sql`${$row.getClassStep().alias}.${sql.identifier(name)}`;
  /** Relay global id, base64 of `Type:uuid` (shapes.ts's globalId; 45 bytes at most: no line breaks). */
  const gid = (type: string) => ($row: Row) => $row.select(sql`encode(convert_to(${sql.literal(`${type}:`)} || ${column($row, 'id')}::text, 'UTF8'), 'base64')`, TYPES.text, true);
  /** Decimal string of integer minor units, as Money.amount ("12.34"). */
  const amount = ($row: Row, name: string) => $row.select(sql`(${column($row, name)}::numeric / 100)::numeric(20,2)::text`, TYPES.text, true);
  /** Ordergraph's DateTime: UTC, milliseconds, `Z` (`Date#toISOString`). */
  const iso = ($row: Row, name: string) => $row.select(sql`to_char(${column($row, name)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`, TYPES.text, true);
  const money = ($amount: Step, $currency: Step) => object({ amount: $amount, currency: $currency });
  const cursorAt = ($row: Row) => lambda([iso($row, 'created_at'), $row.get('id')], cursorOf, true);
  return {
    typeDefs: /* GraphQL */ `
      scalar DateTime
      enum OrderStatus { PENDING PAID PAYMENT_FAILED SHIPPED DELIVERED CANCELLED }
      enum CustomerTier { BASIC PREMIUM ENTERPRISE }
      enum PaymentStatus { PENDING SUCCEEDED DECLINED VOIDED REFUNDED }
      type Money { amount: String! currency: String! }
      type Customer { id: ID! name: String! email: String! tier: CustomerTier! createdAt: DateTime! }
      type Product { id: ID! sku: String! name: String! description: String! price: Money! stock: Int! active: Boolean! }
      type OrderLine { product: Product! productName: String! quantity: Int! unitPrice: Money! lineTotal: Money! }
      type Payment { status: PaymentStatus! amount: Money! createdAt: DateTime! }
      type Order {
        id: ID! number: Int! status: OrderStatus! version: Int! discountPercent: Int!
        subtotal: Money! discount: Money! total: Money! createdAt: DateTime! updatedAt: DateTime!
        customer: Customer! lines: [OrderLine!]! payment: Payment
      }
      type OrderEdge { cursor: String! node: Order! }
      type OrderConnection { edges: [OrderEdge!]! pageInfo: PageInfo! }
      extend type Query {
        order(id: ID!): Order
        "Your orders, newest first; admins see every order."
        orders(first: Int, after: String): OrderConnection!
      }
    `,
    scalars: {
      // The plans already answer Ordergraph's ISO text (see `iso`).
      DateTime: { serialize: (value: unknown) => value },
    },
    objects: {
      Query: {
        plans: {
          order(_: Step, fieldArgs: FieldArgs) {
            // An id that is not an Order's global id answers null without a query, as R's does.
            const $id = inhibitOnNull(lambda(fieldArgs.getRaw('id'), (id: unknown) => parseGlobalId(id, 'Order') ?? null, true));
            const $orders = orders.find({ id: $id });
            $orders.apply(lambda(context().get('viewer'), onlyVisibleTo));
            return $orders.single();
          },
          orders(_: Step, fieldArgs: FieldArgs) {
            const $orders = orders.find();
            $orders.apply(lambda(context().get('viewer'), onlyVisibleTo));
            $orders.apply(lambda(fieldArgs.getRaw('after'), afterCursor));
            $orders.orderBy({ attribute: 'created_at', direction: 'DESC' });
            $orders.orderBy({ attribute: 'id', direction: 'DESC' });
            $orders.setOrderIsUnique();
            $orders.setFirst(fieldArgs.getRaw('first'));
            $orders.setNeedsHasMore();
            return $orders;
          },
        },
      },
      OrderConnection: {
        plans: {
          edges: ($orders: PgSelectStep) => $orders.items(),
          // PostGraphile's built-in PageInfo type plans each field as `$pageInfo.get(name)`.
          pageInfo($orders: PgSelectStep) {
            return object({
              hasNextPage: access($orders, 'hasNextPage'),
              hasPreviousPage: access($orders, 'hasPreviousPage'),
              startCursor: cursorAt($orders.row(first($orders.items()))),
              endCursor: cursorAt($orders.row(last($orders.items()))),
            });
          },
        },
      },
      OrderEdge: {
        plans: {
          node: ($order: Row) => $order,
          cursor: cursorAt,
        },
      },
      Order: {
        plans: {
          id: gid('Order'),
          discountPercent: ($order: Row) => $order.get('discount_percent'),
          subtotal: ($order: Row) => money(amount($order, 'subtotal_minor'), $order.get('currency')),
          discount: ($order: Row) => money(amount($order, 'discount_minor'), $order.get('currency')),
          total: ($order: Row) => money(amount($order, 'total_minor'), $order.get('currency')),
          createdAt: ($order: Row) => iso($order, 'created_at'),
          updatedAt: ($order: Row) => iso($order, 'updated_at'),
          customer: ($order: Row) => customers.get({ id: $order.get('customer_id') }),
          lines($order: Row) {
            const $lines = orderLines.find({ order_id: $order.get('id') });
            $lines.orderBy({ attribute: 'position', direction: 'ASC' });
            return $lines;
          },
          // payments.order_id is unique: an order has at most one payment, the one Ordergraph answers.
          payment: ($order: Row) => payments.get({ order_id: $order.get('id') }),
        },
      },
      OrderLine: {
        plans: {
          product: ($line: Row) => products.get({ id: $line.get('product_id') }),
          productName: ($line: Row) => $line.get('product_name'),
          unitPrice: ($line: Row) => money(amount($line, 'unit_price_minor'), constant(CURRENCY)),
          lineTotal: ($line: Row) => money(amount($line, 'line_total_minor'), constant(CURRENCY)),
        },
      },
      Product: {
        plans: {
          id: gid('Product'),
          price: ($product: Row) => money(amount($product, 'price_minor'), constant(CURRENCY)),
        },
      },
      Customer: {
        plans: {
          id: gid('Customer'),
          createdAt: ($customer: Row) => iso($customer, 'created_at'),
        },
      },
      Payment: {
        plans: {
          amount: ($payment: Row) => money(amount($payment, 'amount_minor'), $payment.get('currency')),
          createdAt: ($payment: Row) => iso($payment, 'created_at'),
        },
      },
    },
  };
});

/** 401 before any GraphQL work for a missing or invalid bearer token (as R), else the viewer for the context. */
const BearerAuthPlugin: GraphileConfig.Plugin = {
  name: 'BenchBearerAuthPlugin',
  version: '0.0.0',
  grafserv: {
    middleware: {
      processRequest(next, event) {
        const { requestDigest } = event;
        const request = requestDigest.requestContext.node?.req;
        const viewer = authenticate(request?.headers.authorization);
        if (!viewer || !request) {
          return {
            type: 'buffer',
            statusCode: 401,
            headers: { 'content-type': 'application/json; charset=utf-8' },
            buffer: errorBody('The access token is invalid or expired; sign in again', 'UNAUTHENTICATED'),
          };
        }
        viewers.set(request, viewer);
        return next();
      },
    },
  },
};

/** Production: no schema introspection, as Ordergraph and the other contestants in production mode. */
const NoIntrospectionPlugin: GraphileConfig.Plugin = {
  name: 'BenchNoIntrospectionPlugin',
  version: '0.0.0',
  grafserv: {
    middleware: {
      setPreset(next, event) {
        event.validationRules.push(NoSchemaIntrospectionCustomRule);
        return next();
      },
    },
  },
};

const preset: GraphileConfig.Preset = {
  extends: [PostGraphileAmberPreset],
  plugins: [OrdergraphShapePlugin, BearerAuthPlugin, NoIntrospectionPlugin],
  // No LISTEN connection: nothing here subscribes.
  pgServices: [makePgService({ pool, schemas: ['public'], pubsub: false })],
  // Introspect every table, generate none of PostGraphile's own types or fields for them.
  schema: { defaultBehavior: '-*' },
  grafserv: { graphqlPath: '/graphql', graphiql: false, graphqlOverGET: false, watch: false },
  grafast: {
    explain: false,
    context: (requestContext) => ({ viewer: requestContext.node ? viewers.get(requestContext.node.req) : undefined }),
  },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.keepAliveTimeout = 60_000;
await serv.addTo(server);
// Build the schema (introspection, plugins) before accepting requests.
await pgl.getSchema();
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
const stop = () => server.close(() => void Promise.resolve(pgl.release()).then(() => pool.end()).then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
