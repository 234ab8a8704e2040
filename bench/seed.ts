// The request benchmarks' database: created on the PostgreSQL server (default
// postgres://postgres@127.0.0.1:5432, database `ordergraph_bench`), migrated with the project's own
// migrations and filled with bulk INSERT … SELECT generate_series statements, so seeding takes
// seconds: 10,000 customers, 1,000 products, 100,000 PAID orders of 3–7 lines (5 on average), with
// their payments and audit trails. Reused as is when already seeded (the seed version is kept in
// the database's comment); rows left by an earlier run's placeOrder rounds are deleted first.
//
//   node bench/seed.ts              # create or reuse, print the counts
//   BENCH_RESEED=true node bench/seed.ts   # drop and seed again
//
// Without a reachable server it falls back to the embedded PGlite (one connection, slow: the
// figures are then not meaningful and the report says so).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { allEntities, allMigrations as migrations } from '../src/modules.ts';
import { createPasswordHasher } from '../src/modules/customers/module.ts';
import { startEmbeddedPostgres } from '../src/platform/db/embedded-postgres.ts';
import { createOrm, migrate } from '../src/platform/db/orm.ts';
import { createLogger } from '../src/platform/logger.ts';

/** Bump when the seeded data changes shape, so an old bench database is seeded again. */
const SEED_VERSION = 'ordergraph-bench seed v1';
export const BENCH_COUNTS = { customers: 10_000, products: 1_000, orders: 100_000 } as const;
/** Every bench customer's password (one argon2id hash, computed once per seed). */
export const BENCH_PASSWORD = 'bench-password-not-secret';
/** Idempotency keys of orders placed by the S3 rounds start with this; such rows are removed before each run. */
export const S3_KEY_PREFIX = 'bench-s3-';
export const ADMIN_EMAIL = 'bench-admin@bench.ordergraph.dev';

/** A seeded benchmark database. */
export interface BenchDatabase {
  readonly url: string;
  /** True when no server was reachable and the embedded PGlite is used instead. */
  readonly embedded: boolean;
  /** Pool size every contestant gets (1 on the embedded PGlite). */
  readonly poolMax: number;
  readonly counts: { customers: number; products: number; orders: number; lines: number };
  /** Seconds spent seeding (0 when reused). */
  readonly seededSeconds: number;
  close(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));

async function serverReachable(adminUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Creates (or reuses) and seeds the bench database.
 * @param options.adminUrl a database on the server where `CREATE DATABASE` may run.
 * @param options.poolMax pool size recorded for the contestants on a real server.
 */
export async function ensureBenchDatabase(options: { adminUrl: string; name: string; poolMax: number; reseed?: boolean; log?: (line: string) => void }): Promise<BenchDatabase> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (!(await serverReachable(options.adminUrl))) {
    log(`no PostgreSQL at ${new URL(options.adminUrl).host}: falling back to the embedded PGlite (figures not meaningful)`);
    const embedded = await startEmbeddedPostgres(join(ROOT, '.data', 'bench-pglite'));
    const db = await prepare(embedded.url, 1, options.reseed ?? false, log, false);
    return { ...db, embedded: true, close: () => embedded.stop() };
  }
  const admin = new pg.Client({ connectionString: options.adminUrl });
  await admin.connect();
  try {
    const exists = (await admin.query('select 1 from pg_database where datname = $1', [options.name])).rowCount === 1;
    if (exists && options.reseed) await admin.query(`drop database ${pg.escapeIdentifier(options.name)} with (force)`);
    if (!exists || options.reseed) await admin.query(`create database ${pg.escapeIdentifier(options.name)}`);
  } finally {
    await admin.end();
  }
  const target = new URL(options.adminUrl);
  target.pathname = `/${options.name}`;
  const db = await prepare(target.toString(), options.poolMax, false, log, true);
  return { ...db, embedded: false, close: async () => undefined };
}

async function prepare(url: string, poolMax: number, reseed: boolean, log: (line: string) => void, commentable: boolean) {
  const orm = await createOrm({ url, poolMax: 1, debug: false, entities: allEntities, migrations, logger: createLogger('silent') });
  try {
    const applied = await migrate(orm);
    if (applied.length > 0) log(`migrations applied: ${applied.join(', ')}`);
  } finally {
    await orm.close();
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const marker = commentable
      ? ((await client.query<{ comment: string | null }>("select shobj_description(oid, 'pg_database') as comment from pg_database where datname = current_database()")).rows[0]?.comment ?? null)
      : ((await client.query<{ n: string }>("select count(*) as n from customers where email = 'bench-customer-1@bench.ordergraph.dev'")).rows[0]?.n === '1' ? SEED_VERSION : null);
    let seededSeconds = 0;
    if (marker !== SEED_VERSION || reseed) {
      const started = performance.now();
      await seed(client, log);
      if (commentable) await client.query(`comment on database ${pg.escapeIdentifier((await client.query<{ db: string }>('select current_database() as db')).rows[0]!.db)} is '${SEED_VERSION}'`);
      seededSeconds = (performance.now() - started) / 1_000;
      log(`seeded in ${seededSeconds.toFixed(1)} s`);
    } else {
      await removeBenchWrites(client);
    }
    const counts = (
      await client.query<{ customers: string; products: string; orders: string; lines: string }>(
        `select (select count(*) from customers) as customers, (select count(*) from catalog_products) as products,
                (select count(*) from orders) as orders, (select count(*) from order_lines) as lines`,
      )
    ).rows[0]!;
    return {
      url,
      poolMax,
      seededSeconds,
      counts: { customers: Number(counts.customers), products: Number(counts.products), orders: Number(counts.orders), lines: Number(counts.lines) },
    };
  } finally {
    await client.end();
  }
}

/** Deletes what earlier runs' placeOrder rounds wrote (orders, lines, history, payments, outbox rows) and restores stock. */
async function removeBenchWrites(client: pg.Client): Promise<void> {
  await client.query('begin');
  await client.query(
    `create temp table bench_gone on commit drop as select id from orders where idempotency_key like '${S3_KEY_PREFIX}%'`,
  );
  await client.query('delete from outbox where aggregate_id in (select id from bench_gone)');
  await client.query('delete from payments where order_id in (select id from bench_gone)');
  await client.query('delete from orders where id in (select id from bench_gone)'); // lines and history cascade
  await client.query('update catalog_products set stock = 1000000000 where stock <> 1000000000');
  await client.query('commit');
  await client.query('vacuum analyze orders, order_lines, order_status_history, payments, outbox, catalog_products');
}

/**
 * Fills the empty, migrated schema. Deterministic apart from the UUIDs: product of line k of order
 * i is (i·7 + k·13) mod 1000 (distinct within an order), quantity 1 + (i + k) mod 3, prices
 * 1.00–99.99; tiers cycle BASIC, PREMIUM, ENTERPRISE; orders are spread over the last 365 days at
 * distinct milliseconds, each PAID (version 2) with its SUCCEEDED payment and two history entries.
 */
async function seed(client: pg.Client, log: (line: string) => void): Promise<void> {
  const passwordHash = await createPasswordHasher().hash(BENCH_PASSWORD);
  const { customers, products, orders } = BENCH_COUNTS;
  const steps: [string, string][] = [
    ['truncate', 'truncate outbox, payment_provider_events, payments, order_status_history, order_lines, orders, catalog_products, customers'],
    [
      'customers',
      `insert into customers (id, email, name, password_hash, role, tier, created_at, updated_at)
       select gen_random_uuid(), 'bench-customer-' || i || '@bench.ordergraph.dev', 'Bench Customer ' || i, $1, 'CUSTOMER',
              (array['BASIC','PREMIUM','ENTERPRISE'])[1 + i % 3],
              timestamptz '2025-01-01 00:00:00Z' + i * interval '1 second', timestamptz '2025-01-01 00:00:00Z' + i * interval '1 second'
         from generate_series(1, ${customers}) as i`,
    ],
    [
      'admin',
      `insert into customers (id, email, name, password_hash, role, tier, created_at, updated_at)
       values (gen_random_uuid(), '${ADMIN_EMAIL}', 'Bench Admin', $1, 'ADMIN', 'BASIC', now(), now())`,
    ],
    [
      'products',
      `insert into catalog_products (id, sku, name, description, price_minor, stock, active, created_at, updated_at)
       select gen_random_uuid(), 'BENCH-' || lpad(i::text, 4, '0'), 'Bench product ' || i, 'A product of the benchmark catalog, number ' || i,
              100 + (i * 7919) % 9900, 1000000000, true,
              timestamptz '2025-01-01 00:00:00Z' + i * interval '1 second', timestamptz '2025-01-01 00:00:00Z' + i * interval '1 second'
         from generate_series(0, ${products - 1}) as i`,
    ],
    ['numbered customers', `create temp table bench_c as select row_number() over (order by email) - 1 as n, id, tier from customers where role = 'CUSTOMER'`],
    ['numbered products', `create temp table bench_p as select (substr(sku, 7))::int as n, id, name, price_minor from catalog_products`],
    [
      'order sources',
      `create temp table bench_o as
       select i, gen_random_uuid() as id, c.id as customer_id, c.tier, 3 + (i * 31) % 5 as nlines,
              date_trunc('milliseconds', now() - interval '1 day') - ((${orders} - i) * interval '313 milliseconds') as created_at
         from generate_series(1, ${orders}) as i
         join bench_c c on c.n = (i * 7) % ${customers}`,
    ],
    [
      'line sources',
      `create temp table bench_l as
       select o.id as order_id, k as position, p.id as product_id, p.name as product_name, 1 + (o.i + k) % 3 as quantity,
              p.price_minor as unit_price_minor, (1 + (o.i + k) % 3) * p.price_minor as line_total_minor
         from bench_o o
         cross join lateral generate_series(1, o.nlines) as k
         join bench_p p on p.n = (o.i * 7 + k * 13) % ${products}`,
    ],
    [
      'orders',
      `insert into orders (id, customer_id, idempotency_key, request_hash, status, currency, subtotal_minor, discount_percent,
                           discount_minor, total_minor, version, created_at, updated_at)
       select o.id, o.customer_id, 'bench-seed-' || o.i, md5(o.i::text), 'PAID', 'USD', s.subtotal, d.pct,
              (s.subtotal * d.pct + 50) / 100, s.subtotal - (s.subtotal * d.pct + 50) / 100, 2, o.created_at, o.created_at
         from bench_o o
         join (select order_id, sum(line_total_minor) as subtotal from bench_l group by order_id) s on s.order_id = o.id
         cross join lateral (select case o.tier when 'PREMIUM' then 10 when 'ENTERPRISE' then 20 else 0 end as pct) d
        order by o.i`,
    ],
    ['lines', 'insert into order_lines select order_id, position, product_id, product_name, quantity, unit_price_minor, line_total_minor from bench_l'],
    [
      'history',
      `insert into order_status_history (order_id, version, customer_id, from_status, to_status, actor, reason, at)
       select id, 1, customer_id, null, 'PENDING', 'customer:' || customer_id, null, created_at from orders
       union all
       select id, 2, customer_id, 'PENDING', 'PAID', 'system:payments', null, created_at from orders`,
    ],
    [
      'payments',
      `insert into payments (id, order_id, idempotency_key, amount_minor, currency, status, provider_charge_id, created_at, updated_at, attempt_count, last_attempt_at)
       select gen_random_uuid(), id, 'order_' || id || '_charge', total_minor, currency, 'SUCCEEDED', 'ch_bench_' || number, created_at, created_at, 1, created_at
         from orders`,
    ],
    ['analyze', 'analyze'],
  ];
  for (const [name, sql] of steps) {
    const started = performance.now();
    await client.query(sql, sql.includes('$1') ? [passwordHash] : []);
    log(`  seed ${name}: ${((performance.now() - started) / 1_000).toFixed(1)} s`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const adminUrl = process.env.BENCH_ADMIN_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const db = await ensureBenchDatabase({ adminUrl, name: process.env.BENCH_DATABASE ?? 'ordergraph_bench', poolMax: 10, reseed: process.env.BENCH_RESEED === 'true' });
  console.log(JSON.stringify({ url: db.url, embedded: db.embedded, counts: db.counts }));
  await db.close();
}
