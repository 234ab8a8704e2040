// Contestant R, the practical limit: node:http + pg, one hand-written SQL statement per shape that
// assembles the whole response body in PostgreSQL (compact JSON text built with string_agg and
// to_json, so the bytes equal Ordergraph's JSON.stringify output and Node only copies them to the
// socket). Named prepared statements, one per shape variant (admin/customer, with/without cursor),
// so each keeps an index-friendly plan. Authentication is the same ES256 access-token check
// Ordergraph makes, by hand on node:crypto, behind the same verified-token cache as every other
// contestant (bench/lib/jwt.ts). It knows only the three benchmark documents (like a
// persisted-query server) and implements only their success paths plus the errors the harness
// could provoke: it is a yardstick, not a server.
//
// Env: DATABASE_URL, POOL_MAX, PORT, JWT_PUBLIC_KEY (SPKI PEM), JWT_ISSUER, JWT_AUDIENCE.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';
import { createCachedEs256Verifier, type TokenViewer } from '../lib/jwt.ts';
import { DOCUMENTS, decodeCursor, parseGlobalId, type ShapeName } from '../lib/shapes.ts';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });
const authenticate = createCachedEs256Verifier(process.env.JWT_PUBLIC_KEY!, { issuer: process.env.JWT_ISSUER ?? 'ordergraph', audience: process.env.JWT_AUDIENCE ?? 'ordergraph-api' });

// SQL fragments that render one JSON value as text.
const gid = (type: string, column: string) => `encode(convert_to('${type}:' || ${column}::text, 'UTF8'), 'base64')`;
const money = (column: string) => `(${column}::numeric / 100)::numeric(20,2)`;
const iso = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const str = (column: string) => `to_json(${column})::text`;

const S1_ORDER = `'{"id":"' || ${gid('Order', 'o.id')} || '","number":' || o.number || ',"status":' || ${str('o.status')}
  || ',"version":' || o.version || ',"discountPercent":' || o.discount_percent
  || ',"subtotal":{"amount":"' || ${money('o.subtotal_minor')} || '","currency":' || ${str('o.currency')} || '}'
  || ',"total":{"amount":"' || ${money('o.total_minor')} || '","currency":' || ${str('o.currency')} || '}'
  || ',"createdAt":"' || ${iso('o.created_at')} || '","updatedAt":"' || ${iso('o.updated_at')} || '"}'`;

/** S1: $1 order id; for a customer viewer $2 is the viewer (only their own orders are visible). */
const s1 = (customer: boolean) => `select '{"data":{"order":' || coalesce((
    select ${S1_ORDER} from orders o where o.id = $1::uuid ${customer ? 'and o.customer_id = $2::uuid' : ''}
  ), 'null') || '}}' as body`;

/**
 * S2: keyset page (createdAt DESC, id DESC) of 51 rows (the 51st only tells hasNextPage), each with
 * its payment's status, its customer and its lines → products. $1/$2 the cursor's createdAt and id;
 * $3 a customer viewer. An order has at most one payment (payments.order_id is unique), which is
 * the one Ordergraph's `Order.payment` answers (looked up by order id); none: `"payment":null`.
 */
const s2 = (after: boolean, customer: boolean) => {
  const where = [after ? '(o.created_at, o.id) < ($1::timestamptz, $2::uuid)' : '', customer ? `o.customer_id = $${after ? 3 : 1}::uuid` : ''].filter(Boolean);
  return `with page as (
    select o.id, o.number, o.status, o.created_at, o.total_minor, o.currency, o.customer_id,
           row_number() over (order by o.created_at desc, o.id desc) as rn
      from (select * from orders o ${where.length ? `where ${where.join(' and ')}` : ''} order by o.created_at desc, o.id desc limit 51) o
  ), edges as (
    select s.rn,
      translate(encode(convert_to('["' || ${iso('s.created_at')} || '","' || s.id::text || '"]', 'UTF8'), 'base64'), '+/=' || chr(10), '-_') as cursor,
      '{"node":{"id":"' || ${gid('Order', 's.id')} || '","number":' || s.number || ',"status":' || ${str('s.status')}
        || ',"createdAt":"' || ${iso('s.created_at')} || '","total":{"amount":"' || ${money('s.total_minor')} || '","currency":' || ${str('s.currency')} || '}'
        || ',"payment":' || coalesce('{"status":' || ${str('pay.status')} || '}', 'null')
        || ',"customer":{"id":"' || ${gid('Customer', 'c.id')} || '","name":' || ${str('c.name')} || ',"email":' || ${str('c.email')} || ',"tier":' || ${str('c.tier')} || '}'
        || ',"lines":' || l.lines || '}}' as edge
      from page s
      join customers c on c.id = s.customer_id
      left join payments pay on pay.order_id = s.id
      cross join lateral (
        select coalesce('[' || string_agg(
          '{"productName":' || ${str('ol.product_name')} || ',"quantity":' || ol.quantity
            || ',"unitPrice":{"amount":"' || ${money('ol.unit_price_minor')} || '"},"lineTotal":{"amount":"' || ${money('ol.line_total_minor')} || '"}'
            || ',"product":{"id":"' || ${gid('Product', 'p.id')} || '","sku":' || ${str('p.sku')} || ',"name":' || ${str('p.name')}
            || ',"price":{"amount":"' || ${money('p.price_minor')} || '"}}}', ',' order by ol.position) || ']', '[]') as lines
          from order_lines ol join catalog_products p on p.id = ol.product_id
         where ol.order_id = s.id
      ) l
     where s.rn <= 50
  )
  select '{"data":{"orders":{"edges":[' || coalesce(string_agg(e.edge, ',' order by e.rn), '') || '],"pageInfo":{"hasNextPage":'
      || case when (select count(*) from page) > 50 then 'true' else 'false' end
      || ',"endCursor":' || coalesce('"' || (array_agg(e.cursor order by e.rn desc))[1] || '"', 'null') || '}}}}' as body
    from edges e`;
};

/**
 * S3, placeOrder in one statement: reserve stock for every line (conditional UPDATE; a missing line
 * makes the statement divide by zero, which rolls everything back), price with the tier discount
 * (half-up), insert the order PAID at version 2 with its lines, its two audit entries (PENDING,
 * PAID), their outbox rows (already published: R has no subscribers) and the SUCCEEDED payment, and
 * render the response. The simulated provider's decision is in-process and declines only totals
 * above 1000.00, which the harness never sends.
 */
const S3_SQL = `with input as (
    select t.product_id, t.quantity, t.position::int as position
      from unnest($2::uuid[], $3::int[]) with ordinality as t(product_id, quantity, position)
  ), cust as (
    select c.id, case c.tier when 'PREMIUM' then 10 when 'ENTERPRISE' then 20 else 0 end as pct from customers c where c.id = $1::uuid
  ), reserved as (
    update catalog_products p set stock = p.stock - i.quantity, updated_at = now()
      from input i
     where p.id = i.product_id and p.active and p.stock >= i.quantity
    returning p.id, p.sku, p.name, p.price_minor, i.quantity, i.position
  ), totals as (
    select sum(r.price_minor * r.quantity)::bigint as subtotal, count(*) as n from reserved r
  ), priced as (
    select c.id as customer_id, c.pct, t.subtotal, (t.subtotal * c.pct + 50) / 100 as discount
      from cust c, totals t
     where 1 / (t.n = (select count(*) from input))::int = 1
  ), ord as (
    insert into orders (id, customer_id, idempotency_key, request_hash, status, currency, subtotal_minor, discount_percent,
                        discount_minor, total_minor, version, created_at, updated_at)
    select $4::uuid, p.customer_id, $5, $6, 'PAID', 'USD', p.subtotal, p.pct, p.discount, p.subtotal - p.discount, 2, $7::timestamptz, $7::timestamptz
      from priced p
    returning id, number, status, version, discount_percent, subtotal_minor, discount_minor, total_minor, currency, created_at, customer_id
  ), changes as (
    select o.id, o.customer_id, o.created_at, v.version, v.from_status, v.to_status, v.actor
      from ord o cross join lateral (values (1, null, 'PENDING', 'customer:' || o.customer_id::text), (2, 'PENDING', 'PAID', 'system:payments')) as v(version, from_status, to_status, actor)
  ), lines as (
    insert into order_lines (order_id, position, product_id, product_name, quantity, unit_price_minor, line_total_minor)
    select o.id, r.position, r.id, r.name, r.quantity, r.price_minor, r.price_minor * r.quantity from ord o, reserved r
    returning position
  ), history as (
    insert into order_status_history (order_id, version, customer_id, from_status, to_status, actor, reason, at)
    select id, version, customer_id, from_status, to_status, actor, null, created_at from changes
    returning version
  ), events as (
    insert into outbox (topic, aggregate_id, customer_id, version, payload, created_at)
    select 'order-status-changed', id, customer_id, version,
           jsonb_build_object('orderId', id, 'customerId', customer_id, 'version', version, 'from', from_status, 'to', to_status,
                              'at', ${iso('created_at')}, 'actor', actor, 'reason', null),
           created_at
      from changes
    returning id
  ), payment as (
    insert into payments (id, order_id, idempotency_key, amount_minor, currency, status, provider_charge_id, created_at, updated_at, attempt_count, last_attempt_at)
    select gen_random_uuid(), o.id, 'order_' || o.id::text || '_charge', o.total_minor, o.currency, 'SUCCEEDED', $8, o.created_at, o.created_at, 1, o.created_at
      from ord o
    returning id
  )
  select '{"data":{"placeOrder":{"__typename":"PlaceOrderSuccess","order":{"id":"' || ${gid('Order', 'o.id')} || '","number":' || o.number
      || ',"status":' || ${str('o.status')} || ',"version":' || o.version || ',"discountPercent":' || o.discount_percent
      || ',"subtotal":{"amount":"' || ${money('o.subtotal_minor')} || '","currency":' || ${str('o.currency')} || '}'
      || ',"discount":{"amount":"' || ${money('o.discount_minor')} || '"},"total":{"amount":"' || ${money('o.total_minor')} || '"}'
      || ',"createdAt":"' || ${iso('o.created_at')} || '","lines":['
      || (select string_agg('{"productName":' || ${str('r.name')} || ',"quantity":' || r.quantity
            || ',"unitPrice":{"amount":"' || ${money('r.price_minor')} || '"},"lineTotal":{"amount":"' || ${money('r.price_minor * r.quantity')} || '"}'
            || ',"product":{"id":"' || ${gid('Product', 'r.id')} || '","sku":' || ${str('r.sku')} || '}}', ',' order by r.position) from reserved r)
      || ']}}}}' as body
    from ord o`;

const send = (response: ServerResponse, status: number, body: string) => {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
};
const errorBody = (message: string, code: string) => JSON.stringify({ errors: [{ message, extensions: { code } }] });
const NULL_ORDER = '{"data":{"order":null}}';

const shapeOf = new Map<string, ShapeName>(Object.entries(DOCUMENTS).map(([name, text]) => [text, name as ShapeName]));

async function body(request: IncomingMessage): Promise<{ query?: string; variables?: Record<string, unknown> }> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query?: string; variables?: Record<string, unknown> };
}

async function one(name: string, text: string, values: unknown[]): Promise<string> {
  const result = await pool.query<[string]>({ name, text, values, rowMode: 'array' });
  return result.rows[0]![0];
}

async function handle(shape: ShapeName, variables: Record<string, unknown>, viewer: TokenViewer, response: ServerResponse): Promise<void> {
  const customer = viewer.role === 'CUSTOMER';
  if (shape === 'S1') {
    const id = parseGlobalId(variables.id, 'Order');
    if (!id) return send(response, 200, NULL_ORDER);
    return send(response, 200, await one(`s1${customer ? 'c' : 'a'}`, s1(customer), customer ? [id, viewer.customerId] : [id]));
  }
  if (shape === 'S2') {
    const after = variables.after == null ? undefined : decodeCursor(variables.after);
    if (variables.after != null && !after) return send(response, 200, errorBody('Invalid cursor', 'VALIDATION_FAILED'));
    const values: unknown[] = after ? [after.createdAt, after.id] : [];
    if (customer) values.push(viewer.customerId);
    return send(response, 200, await one(`s2${after ? 'x' : 'n'}${customer ? 'c' : 'a'}`, s2(!!after, customer), values));
  }
  const input = variables.input as { idempotencyKey: string; lines: { productId: string; quantity: number }[] };
  const productIds = input.lines.map((line) => parseGlobalId(line.productId, 'Product'));
  if (!customer || productIds.some((id) => !id)) return send(response, 200, errorBody('Not supported by R', 'VALIDATION_FAILED'));
  // The same request hash Ordergraph stores (SHA-256 of the canonical lines), for idempotent replays.
  const canonical = input.lines.map((line, i) => ({ productId: productIds[i]!, quantity: line.quantity })).sort((a, b) => a.productId.localeCompare(b.productId));
  const requestHash = createHash('sha256').update(canonical.map((l) => `${l.productId}:${l.quantity}`).join(',')).digest('hex');
  const chargeId = `ch_raw_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
  try {
    const text = await one('s3', S3_SQL, [viewer.customerId, productIds, input.lines.map((l) => l.quantity), randomUUID(), input.idempotencyKey, requestHash, new Date(), chargeId]);
    return send(response, 200, text);
  } catch (error) {
    const code = (error as { code?: string }).code === '22012' ? 'OUT_OF_STOCK' : 'INTERNAL_SERVER_ERROR';
    return send(response, 200, errorBody(String((error as Error).message), code));
  }
}

const server = createServer((request, response) => {
  if (request.method !== 'POST' || request.url !== '/graphql') return send(response, 404, errorBody('Not found', 'NOT_FOUND'));
  body(request)
    .then(async (params) => {
      const shape = params.query === undefined ? undefined : shapeOf.get(params.query);
      if (!shape) return send(response, 400, errorBody('R serves only the benchmark documents', 'BAD_REQUEST'));
      const viewer = authenticate(request.headers.authorization);
      if (!viewer) return send(response, 401, errorBody('The access token is invalid or expired; sign in again', 'UNAUTHENTICATED'));
      return handle(shape, params.variables ?? {}, viewer, response);
    })
    .catch((error: unknown) => send(response, 500, errorBody(String(error), 'INTERNAL_SERVER_ERROR')));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
const stop = () => server.close(() => void pool.end().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
