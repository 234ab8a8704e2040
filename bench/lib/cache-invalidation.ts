// The response cache's invalidation cost (issue 15): two O processes with the cache on, sharing the
// database and Redis; a change is committed through one (the writer), and the other (the reader)
// is read in a loop until it shows the change. Loopback only; bounded by samples × a 10 s deadline.
import type { CacheInvalidationRecord } from './report.ts';

/** What the measurement needs from the harness: two running instances and the requests to send. */
export interface InvalidationSetup {
  readonly writer: { readonly url: string };
  readonly reader: { readonly url: string };
  readonly adminToken: string;
  /** A placeOrder request body of a customer (with a fresh idempotency key each call) and that customer's token. */
  readonly order: () => { readonly token: string; readonly body: string };
  readonly samples: number;
  readonly log: (line: string) => void;
}

const READ_ORDER = 'query ReadOrder($id: ID!) { order(id: $id) { id status version } }';
const SHIP = `mutation Ship($input: UpdateOrderStatusInput!) {
  updateOrderStatus(input: $input) { __typename ... on UpdateOrderStatusSuccess { order { status version } } ... on Error { code message } }
}`;
const CREATE = `mutation Probe($input: CreateProductInput!) { createProduct(input: $input) { __typename ... on CreateProductSuccess { product { id } } ... on Error { code message } } }`;
const READ_STOCK = 'query ReadStock($id: ID!) { product(id: $id) { id stock } }';
const ADJUST = `mutation Adjust($input: AdjustStockInput!) {
  adjustStock(input: $input) { __typename ... on AdjustStockSuccess { product { stock } } ... on Error { code message } }
}`;
/** How long the reader may take to show a change before the sample fails (ms). */
const DEADLINE_MS = 10_000;

interface Answer {
  readonly data?: Record<string, Record<string, unknown> | null>;
  readonly errors?: unknown;
  readonly extensions?: { readonly responseCache?: { readonly hit?: boolean } };
}

async function graphql(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const answer = (await response.json()) as Answer;
  if (answer.errors) throw new Error(`${query.slice(0, 40)}…: ${JSON.stringify(answer.errors).slice(0, 300)}`);
  return answer;
}

/** Reads through `read` until `shows` is true; @returns ms since `since` and how many reads were still stale. */
async function readUntil(read: () => Promise<Answer>, shows: (answer: Answer) => boolean, since: number): Promise<{ ms: number; stale: number }> {
  let stale = 0;
  for (;;) {
    const answer = await read();
    const now = performance.now();
    if (shows(answer)) return { ms: now - since, stale };
    if (now - since > DEADLINE_MS) throw new Error(`the reader did not show the change within ${DEADLINE_MS} ms`);
    stale += 1;
  }
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

function summarise(kind: string, samples: readonly { ms: number; stale: number }[]): CacheInvalidationRecord['kinds'][number] {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return { kind, samples: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)!, staleReadsAfterCommit: samples.reduce((n, s) => n + s.stale, 0) };
}

/** Order status: placed on the writer, read (cached) on the reader, shipped on the writer, read on the reader until SHIPPED. */
async function orderSamples(setup: InvalidationSetup): Promise<{ ms: number; stale: number }[]> {
  const out: { ms: number; stale: number }[] = [];
  for (let i = 0; i < setup.samples; i += 1) {
    const { token, body } = setup.order();
    const placed = (await (await fetch(setup.writer.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body })).json()) as { data?: { placeOrder?: { order?: { id: string; status: string; version: number } } } };
    const order = placed.data?.placeOrder?.order;
    if (!order || order.status !== 'PAID') throw new Error(`placeOrder did not answer a PAID order: ${JSON.stringify(placed).slice(0, 300)}`);
    const read = () => graphql(setup.reader.url, token, READ_ORDER, { id: order.id });
    // Until a hit: a read right after the order was placed may be stored and then dropped when the
    // reader's log reader hears of the order a moment later (ADR 0015: a needless miss, never stale).
    await readUntil(read, (a) => a.data?.order?.['status'] === 'PAID' && a.extensions?.responseCache?.hit === true, performance.now());
    const shipped = await graphql(setup.writer.url, setup.adminToken, SHIP, { input: { orderId: order.id, status: 'SHIPPED', expectedVersion: order.version } });
    const committed = performance.now();
    if (shipped.data?.updateOrderStatus?.['__typename'] !== 'UpdateOrderStatusSuccess') throw new Error(`ship failed: ${JSON.stringify(shipped).slice(0, 300)}`);
    out.push(await readUntil(read, (a) => a.data?.order?.['status'] === 'SHIPPED', committed));
  }
  return out;
}

/**
 * Stock: a product of its own (the bench catalog's stock sits above what adjustStock may set, so
 * that S3 never runs out), read (cached) on the reader, adjusted by ±1 on the writer, read on the
 * reader until the new stock shows.
 */
async function stockSamples(setup: InvalidationSetup): Promise<{ ms: number; stale: number }[]> {
  const out: { ms: number; stale: number }[] = [];
  const created = await graphql(setup.writer.url, setup.adminToken, CREATE, {
    input: { sku: `BENCH-INV-${crypto.randomUUID().slice(0, 8).toUpperCase()}`, name: 'Invalidation probe', price: '1.00', stock: 1_000 },
  });
  const id = (created.data?.createProduct?.['product'] as { id: string } | undefined)?.id;
  if (!id) throw new Error(`createProduct failed: ${JSON.stringify(created).slice(0, 300)}`);
  for (let i = 0; i < setup.samples; i += 1) {
    const read = () => graphql(setup.reader.url, setup.adminToken, READ_STOCK, { id });
    let warm: Answer = await read();
    await readUntil(async () => (warm = await read()), (a) => a.extensions?.responseCache?.hit === true, performance.now());
    // Down by one while there is stock (the bench catalog starts near the 1,000,000 ceiling), else up.
    const before = warm.data?.product?.['stock'] as number;
    const adjusted = await graphql(setup.writer.url, setup.adminToken, ADJUST, { input: { productId: id, delta: before > 0 ? -1 : 1 } });
    const committed = performance.now();
    const stock = adjusted.data?.adjustStock?.['product'] as { stock: number } | undefined;
    if (!stock) throw new Error(`adjustStock failed: ${JSON.stringify(adjusted).slice(0, 300)}`);
    out.push(await readUntil(read, (a) => a.data?.product?.['stock'] === stock.stock, committed));
  }
  return out;
}

/**
 * Measures, per kind of change, the time from the writer's response to a change (its commit is
 * before it) to the first read on the reader that shows it, and how many reads in between were
 * still stale (served from the reader's cache before its invalidation arrived).
 * @throws Error when a read never shows the change within 10 s, or a request fails.
 */
export async function measureCacheInvalidation(setup: InvalidationSetup, description: string): Promise<CacheInvalidationRecord> {
  const orders = summarise('order status (updateOrderStatus SHIPPED on the writer; order(id) by its owner on the reader)', await orderSamples(setup));
  setup.log(`cache invalidation, order status: p50 ${orders.p50.toFixed(1)} ms, p99 ${orders.p99.toFixed(1)} ms, ${orders.staleReadsAfterCommit} stale reads`);
  const stock = summarise('stock (adjustStock ±1 on the writer; product(id) { stock } on the reader)', await stockSamples(setup));
  setup.log(`cache invalidation, stock: p50 ${stock.p50.toFixed(1)} ms, p99 ${stock.p99.toFixed(1)} ms, ${stock.staleReadsAfterCommit} stale reads`);
  return { setup: description, kinds: [orders, stock] };
}
