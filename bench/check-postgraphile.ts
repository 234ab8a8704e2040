// Equality check of a plain-env contestant (default P, bench/contestants/postgraphile.ts) against R
// on the benchmark's read shapes, outside the full `npm run bench`: starts R and the contestant side
// by side on the bench database (bench/seed.ts; created and seeded when missing), sends both the same
// sampled requests and fails (exit 1) on the first difference of parsed JSON. Samples: S1 as the
// order's owner, as another customer (must answer `order: null`), as an admin, and with an id that is
// no Order's; S2 as an admin from the first page and from random cursors, and as a customer (only
// their orders). Then counts the contestant's SQL statements per request at the wire
// (bench/lib/pg-counter.ts). Byte-equality is reported but not required (the harness compares parsed
// JSON). Loopback only; bounded by the sample counts.
//
//   node bench/check-postgraphile.ts [bench/contestants/<file>.ts]   # BENCH_CHECK_SAMPLES (50)
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { JoseTokenService } from '../src/modules/customers/module.ts';
import { freePort } from '../test/support/net.ts';
import { startStatementCounter } from './lib/pg-counter.ts';
import { startServer, type ServerProcess } from './lib/proc.ts';
import { DOCUMENTS, encodeCursor, globalId, type ShapeName } from './lib/shapes.ts';
import { ADMIN_EMAIL, ensureBenchDatabase } from './seed.ts';

const contestant = process.argv[2] ?? 'bench/contestants/postgraphile.ts';
const SAMPLES = Number(process.env.BENCH_CHECK_SAMPLES ?? 50);
const ISSUER = 'ordergraph';
const AUDIENCE = 'ordergraph-api';
const adminUrl = process.env.BENCH_ADMIN_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const db = await ensureBenchDatabase({ adminUrl, name: process.env.BENCH_DATABASE ?? 'ordergraph_bench', poolMax: 10 });
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const publicPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
const tokens = await JoseTokenService.fromPkcs8(privateKey, { issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 3_600 });
const tokenFor = async (customerId: string, role: 'CUSTOMER' | 'ADMIN') => (await tokens.issue({ customerId, role })).accessToken;

type Sample = { shape: ShapeName; label: string; token: string; variables: Record<string, unknown> };
const samples: Sample[] = [];
const sql = new pg.Client({ connectionString: db.url });
await sql.connect();
try {
  const adminToken = await tokenFor((await sql.query<{ id: string }>('select id from customers where email = $1', [ADMIN_EMAIL])).rows[0]!.id, 'ADMIN');
  const orders = (await sql.query<{ id: string; customer_id: string }>(`select id, customer_id from orders order by random() limit $1`, [SAMPLES])).rows;
  for (const [i, order] of orders.entries()) {
    const owner = await tokenFor(order.customer_id, 'CUSTOMER');
    const other = orders[(i + 1) % orders.length]!.customer_id;
    samples.push({ shape: 'S1', label: 'owner', token: owner, variables: { id: globalId('Order', order.id) } });
    if (other !== order.customer_id) samples.push({ shape: 'S1', label: "another customer's order", token: await tokenFor(other, 'CUSTOMER'), variables: { id: globalId('Order', order.id) } });
    if (i % 5 === 0) samples.push({ shape: 'S1', label: 'admin', token: adminToken, variables: { id: globalId('Order', order.id) } });
  }
  samples.push({ shape: 'S1', label: 'not an Order id', token: adminToken, variables: { id: globalId('Product', orders[0]!.id) } });
  const cursors = (await sql.query<{ id: string; created_at: Date }>(`select id, created_at from orders order by random() limit $1`, [SAMPLES])).rows;
  samples.push({ shape: 'S2', label: 'first page', token: adminToken, variables: { after: null } });
  for (const row of cursors) samples.push({ shape: 'S2', label: 'admin, random cursor', token: adminToken, variables: { after: encodeCursor(row.created_at, row.id) } });
  // A customer's page: only their orders (the seed gives each customer about ten).
  const customer = orders[0]!.customer_id;
  samples.push({ shape: 'S2', label: 'customer, first page', token: await tokenFor(customer, 'CUSTOMER'), variables: { after: null } });
} finally {
  await sql.end();
}

const plainEnv = (url: string) => ({ NODE_ENV: 'production', DATABASE_URL: url, POOL_MAX: '10', JWT_PUBLIC_KEY: publicPem, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
const answers = async (origin: string) => (await fetch(`${origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })).status < 500;
const post = async (server: ServerProcess, sample: Sample) => {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sample.token}` },
    body: JSON.stringify({ query: DOCUMENTS[sample.shape], variables: sample.variables }),
  });
  return { status: response.status, text: await response.text() };
};

let failures = 0;
let sameBytes = 0;
const servers: ServerProcess[] = [];
try {
  const raw = await startServer('R', ['bench/contestants/raw.ts'], plainEnv(db.url), await freePort(), answers);
  servers.push(raw);
  const peer = await startServer('X', [contestant], plainEnv(db.url), await freePort(), answers);
  servers.push(peer);
  for (const sample of samples) {
    const [expected, actual] = [await post(raw, sample), await post(peer, sample)];
    const equal = expected.status === 200 && actual.status === 200 && isDeepStrictEqual(JSON.parse(actual.text), JSON.parse(expected.text)) && !expected.text.includes('"errors"');
    if (equal) sameBytes += Number(actual.text === expected.text);
    else {
      failures += 1;
      console.log(`DIFFERS ${sample.shape} (${sample.label}) ${JSON.stringify(sample.variables)}\n  R ${expected.status} ${expected.text.slice(0, 400)}\n  ${contestant} ${actual.status} ${actual.text.slice(0, 400)}`);
    }
  }
  console.log(`${samples.length} samples (${samples.filter((s) => s.shape === 'S1').length} S1, ${samples.filter((s) => s.shape === 'S2').length} S2): ${failures} differ from R; ${sameBytes} byte-equal`);

  // SQL statements per request at the wire, on a separate instance, one request at a time.
  const target = new URL(db.url);
  const counter = await startStatementCounter({ host: target.hostname, port: Number(target.port || 5432) });
  const proxied = new URL(db.url);
  proxied.port = String(counter.port);
  const counted = await startServer('X (counted)', [contestant], plainEnv(proxied.toString()), await freePort(), answers);
  servers.push(counted);
  for (const shape of ['S1', 'S2'] as const) {
    const some = samples.filter((s) => s.shape === shape).slice(0, 10);
    await post(counted, some[0]!); // warm: the schema's first plan of this document
    const from = counter.statements.length;
    for (const sample of some) await post(counted, sample);
    const seen = counter.statements.slice(from);
    console.log(`statements ${shape}: ${(seen.length / some.length).toFixed(1)} per request; e.g. ${seen.at(-1)?.sql.replace(/\s+/g, ' ').slice(0, 300)}`);
  }
  await counted.stop();
  await counter.close();
} finally {
  for (const server of servers) await server.stop().catch(() => undefined);
  await db.close();
}
process.exitCode = failures === 0 ? 0 : 1;
