import { beforeAll, describe, expect, it } from 'vitest';
import type { Order, OrderLine, OrderStatusChange } from '../../../../../src/modules/orders/domain/order.ts';
import type { OrderStatus } from '../../../../../src/modules/orders/domain/status-machine.ts';
import type { OrderFilter, OrderOrder, OrderReader } from '../../../../../src/modules/orders/application/ports.ts';
import { comparePositions, decodeCursor } from '../../../../../src/modules/orders/domain/order-log-cursor.ts';
import type { PageWindow } from '../../../../../src/platform/pagination.ts';
import { eventually } from '../../../../support/eventually.ts';
import { walkBackward, walkForward } from '../../../../support/paging.ts';

// The OrderReader contract: the cases the in-memory store (test/fakes/orders.ts, run by
// order-reader.fake.test.ts) and the PostgreSQL reader (run by
// test/integration/modules/orders/contracts/order-reader.postgres.test.ts) both pass. Rows come
// from the harness's `seed` (not from the unit of work, whose contract is the write path's), and
// every case reads only its own orders: its own customers, or created-at windows of its own.

/** What a contract run needs besides the reader: a way to store orders as they are. */
export interface OrderReaderHarness {
  readonly reader: () => OrderReader;
  /** A customer id orders may point at. */
  customer(): Promise<string>;
  /** A product id lines may point at. */
  product(): Promise<string>;
  /**
   * Stores an order with its lines and history; the store assigns the number. With `logged`, the
   * history also goes to the order log (its outbox rows), in one transaction. @returns the stored order.
   */
  seed(order: Omit<Order, 'number'>, lines: readonly OrderLine[], history: readonly OrderStatusChange[], options?: { readonly logged?: boolean }): Promise<Order>;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A PENDING order of `customerId` stamped `at`, with `fields` over the defaults (a fresh id and idempotency key). */
export const draftOf = (customerId: string, at: Date, fields: Partial<Order> = {}): Omit<Order, 'number'> => ({
  id: crypto.randomUUID(),
  customerId,
  idempotencyKey: `key-${crypto.randomUUID()}`,
  requestHash: 'a'.repeat(64),
  status: 'PENDING',
  currency: 'USD',
  subtotalMinor: 2_000,
  discountPercent: 10,
  discountMinor: 200,
  totalMinor: 1_800,
  version: 1,
  createdAt: at,
  updatedAt: at,
  ...fields,
});

const lineOf = (orderId: string, productId: string, position: number): OrderLine => ({
  orderId,
  position,
  productId,
  productName: `Widget ${position}`,
  quantity: position,
  unitPriceMinor: 1_000,
  lineTotalMinor: 1_000 * position,
});

const trailOf = (order: Omit<Order, 'number'>, statuses: readonly OrderStatus[]): OrderStatusChange[] =>
  statuses.map((to, i) => ({
    orderId: order.id,
    customerId: order.customerId,
    version: i + 1,
    from: i === 0 ? null : statuses[i - 1]!,
    to,
    at: new Date(order.createdAt.getTime() + i * 60_000),
    actor: i === 0 ? `customer:${order.customerId}` : 'admin:someone',
    reason: to === 'CANCELLED' ? 'asked by the customer' : null,
  }));

/** Runs the contract against the harness's reader and store. */
export function describeOrderReaderContract(name: string, harness: () => OrderReaderHarness): void {
  describe(`${name}: the OrderReader contract`, () => {
    const h = () => harness();
    const place = async (customerId: string, at: Date, fields: Partial<Order> = {}, lines = 1) => {
      const draft = draftOf(customerId, at, fields);
      const productId = await h().product();
      const stored = await h().seed(
        draft,
        Array.from({ length: lines }, (_, i) => lineOf(draft.id, productId, i + 1)),
        trailOf(draft, [draft.status]),
      );
      return stored;
    };

    it('findByIds answers the stored orders, leaves out missing ids, and [] for none', async () => {
      const customerId = await h().customer();
      const a = await place(customerId, new Date('2026-02-01T10:00:00.000Z'));
      const b = await place(customerId, new Date('2026-02-01T10:00:00.000Z'), { status: 'PAID', version: 2 });
      const found = await h().reader().findByIds([b.id, crypto.randomUUID(), a.id]);
      expect([...found].sort((x, y) => byString(x.id, y.id))).toEqual([a, b].sort((x, y) => byString(x.id, y.id)));
      expect(Number.isSafeInteger(a.number) && a.number !== b.number).toBe(true);
      expect(await h().reader().findByIds([])).toEqual([]);
    });

    it('findByIdempotencyKey finds the order of that customer only', async () => {
      const [mine, theirs] = [await h().customer(), await h().customer()];
      const key = `shared-${crypto.randomUUID()}`;
      const a = await place(mine, new Date('2026-02-01T10:00:00.000Z'), { idempotencyKey: key });
      const b = await place(theirs, new Date('2026-02-01T10:00:00.000Z'), { idempotencyKey: key });
      expect(await h().reader().findByIdempotencyKey(mine, key)).toEqual(a);
      expect(await h().reader().findByIdempotencyKey(theirs, key)).toEqual(b);
      expect(await h().reader().findByIdempotencyKey(mine, 'no-such-key')).toBeUndefined();
    });

    it('findLines answers the lines by order, then position; [] for none or unknown orders', async () => {
      const customerId = await h().customer();
      const a = await place(customerId, new Date('2026-02-01T10:00:00.000Z'), {}, 3);
      const b = await place(customerId, new Date('2026-02-01T10:00:00.000Z'), {}, 2);
      const lines = await h().reader().findLines([b.id, a.id]);
      const expected = [a, b].sort((x, y) => byString(x.id, y.id)).flatMap((order) => (order.id === a.id ? [1, 2, 3] : [1, 2]).map((p) => ({ orderId: order.id, position: p })));
      expect(lines.map(({ orderId, position }) => ({ orderId, position }))).toEqual(expected);
      expect(lines[0]).toEqual({ ...lineOf(lines[0]!.orderId, lines[0]!.productId, 1) });
      expect(await h().reader().findLines([])).toEqual([]);
      expect(await h().reader().findLines([crypto.randomUUID()])).toEqual([]);
    });

    it('findHistory answers the trails by order, then version; findHistorySince the versions after one', async () => {
      const customerId = await h().customer();
      const productId = await h().product();
      const at = new Date('2026-03-01T10:00:00.000Z');
      const drafts = [draftOf(customerId, at, { status: 'DELIVERED', version: 4 }), draftOf(customerId, at, { status: 'CANCELLED', version: 2 })];
      const trails = [trailOf(drafts[0]!, ['PENDING', 'PAID', 'SHIPPED', 'DELIVERED']), trailOf(drafts[1]!, ['PENDING', 'CANCELLED'])];
      for (const [i, draft] of drafts.entries()) await h().seed(draft, [lineOf(draft.id, productId, 1)], trails[i]!);
      const expected = drafts[0]!.id < drafts[1]!.id ? trails.flat() : [...trails[1]!, ...trails[0]!];
      expect(await h().reader().findHistory([drafts[1]!.id, drafts[0]!.id])).toEqual(expected);
      expect(await h().reader().findHistory([])).toEqual([]);
      // Seeded without log entries: no cursors.
      const unlogged = (changes: OrderStatusChange[]) => changes.map((change) => ({ ...change, cursor: null }));
      expect(await h().reader().findHistorySince(drafts[0]!.id, 0)).toEqual(unlogged(trails[0]!));
      expect(await h().reader().findHistorySince(drafts[0]!.id, 2)).toEqual(unlogged(trails[0]!.slice(2)));
      expect(await h().reader().findHistorySince(drafts[0]!.id, 4)).toEqual([]);
    });

    it("findHistorySince gives each change the cursor of its log entry: that entry's position, written at the change's time", async () => {
      const customerId = await h().customer();
      const productId = await h().product();
      const draft = draftOf(customerId, new Date('2026-03-02T10:00:00.000Z'), { status: 'SHIPPED', version: 3 });
      const trail = trailOf(draft, ['PENDING', 'PAID', 'SHIPPED']);
      await h().seed(draft, [lineOf(draft.id, productId, 1)], trail, { logged: true });

      // A cursor once the log entry is below the commit horizon (on a shared server, other
      // sessions' transactions may hold it back a moment).
      const changes = await eventually(async () => {
        const since = await h().reader().findHistorySince(draft.id, 0);
        expect(since.every((change) => change.cursor !== null)).toBe(true);
        return since;
      });

      expect(changes.map(({ cursor: _, ...change }) => change)).toEqual(trail);
      const decoded = changes.map((change) => decodeCursor(change.cursor ?? ''));
      expect(decoded.map((cursor) => cursor?.writtenAt)).toEqual(trail.map((change) => change.at));
      const positions = decoded.map((cursor) => cursor!.position);
      expect(positions.slice(1).every((position, i) => comparePositions(position, positions[i]!) > 0)).toBe(true);
      expect((await h().reader().findHistorySince(draft.id, 1)).map((change) => change.cursor)).toEqual(changes.slice(1).map((change) => change.cursor));
    });

    it('findStalePending answers PENDING orders last changed before the instant, oldest first, at most `limit`', async () => {
      const customerId = await h().customer();
      // 1999: before every other case's orders, so only these can be stale by 2000.
      const old = [3, 1, 2].map((day) => new Date(Date.UTC(1999, 5, day)));
      const stale = [];
      for (const at of old) stale.push(await place(customerId, at));
      await place(customerId, new Date(Date.UTC(1999, 5, 4)), { status: 'PAID', version: 2 });
      const before = new Date(Date.UTC(2000, 0, 1));
      const expected = [...stale].sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime());
      expect(await h().reader().findStalePending(before, 10)).toEqual(expected);
      expect(await h().reader().findStalePending(before, 2)).toEqual(expected.slice(0, 2));
      expect(await h().reader().findStalePending(new Date(Date.UTC(1999, 5, 2, 12)), 10)).toEqual(expected.slice(0, 2));
    });

    describePaging(h, place);
  });
}

function describePaging(h: () => OrderReaderHarness, place: (customerId: string, at: Date, fields?: Partial<Order>) => Promise<Order>): void {
  describe('findPage', () => {
    // Every order here is created in 2011: that window selects exactly these.
    const window2011: OrderFilter = { createdAfter: new Date('2011-01-01T00:00:00.000Z'), createdBefore: new Date('2012-01-01T00:00:00.000Z') };
    const minute = (n: number) => new Date(Date.UTC(2011, 5, 1, 12, n));
    const orders: Order[] = [];
    let alice = '';
    let bob = '';
    beforeAll(async () => {
      [alice, bob] = [await h().customer(), await h().customer()];
      // Ties on created-at and on total exercise the id tie-break.
      const specs: [string, number, number, OrderStatus][] = [
        [alice, 5, 1_800, 'PENDING'],
        [bob, 1, 500, 'PAID'],
        [alice, 3, 1_800, 'SHIPPED'],
        [alice, 3, 9_900, 'PAID'],
        [bob, 3, 1_800, 'CANCELLED'],
        [alice, 0, 100, 'DELIVERED'],
        [bob, 7, 0, 'CANCELLED'],
      ];
      for (const [customer, at, total, status] of specs) {
        orders.push(await place(customer, minute(at), { status, subtotalMinor: total, discountPercent: 0, discountMinor: 0, totalMinor: total }));
      }
    });
    const sortValue = (o: Order, order: OrderOrder) => (order.field === 'CREATED_AT' ? o.createdAt.getTime() : order.field === 'NUMBER' ? o.number : o.totalMinor);
    const expectedOrder = (order: OrderOrder, predicate: (o: Order) => boolean = () => true) =>
      orders
        .filter(predicate)
        .sort((a, b) => {
          const [x, y] = [sortValue(a, order), sortValue(b, order)];
          const c = x < y ? -1 : x > y ? 1 : byString(a.id, b.id);
          return order.direction === 'ASC' ? c : -c;
        })
        .map((o) => o.id);
    const page = async (filter: OrderFilter, order: OrderOrder, window: PageWindow) => {
      const result = await h().reader().findPage(filter, order, window);
      if (!result.ok) throw result.error;
      return result.value;
    };
    const orderings: OrderOrder[] = (['CREATED_AT', 'NUMBER', 'TOTAL'] as const).flatMap((field) => (['ASC', 'DESC'] as const).map((direction) => ({ field, direction })));

    it.each(orderings)('orders by $field $direction, then id, and pages both ways over every order once', async (order) => {
      const expected = expectedOrder(order);
      const all = await page(window2011, order, { first: 100 });
      expect(all.edges.map((edge) => edge.node)).toEqual(expected.map((id) => orders.find((o) => o.id === id)));
      for (const size of [1, 3]) {
        expect(await walkForward((window) => page(window2011, order, window), size)).toEqual(expected);
        expect(await walkBackward((window) => page(window2011, order, window), size)).toEqual(expected);
      }
    });

    it.each<[string, () => OrderFilter, (o: Order) => boolean]>([
      ['one customer', () => ({ ...window2011, customerId: alice }), (o) => o.customerId === alice],
      ['statuses', () => ({ ...window2011, statuses: ['PAID', 'CANCELLED'] }), (o) => o.status === 'PAID' || o.status === 'CANCELLED'],
      ['an empty status list (no restriction)', () => ({ ...window2011, statuses: [] }), () => true],
      ['a customer and a status', () => ({ customerId: bob, statuses: ['CANCELLED'] }), (o) => o.customerId === bob && o.status === 'CANCELLED'],
      ['a created-at range', () => ({ createdAfter: minute(2), createdBefore: minute(6) }), (o) => o.createdAt >= minute(2) && o.createdAt < minute(6)],
    ])('scopes to %s and counts the matches, with or without the count in the page read', async (_label, filterOf, predicate) => {
      const filter = filterOf();
      const order: OrderOrder = { field: 'NUMBER', direction: 'DESC' };
      const expected = expectedOrder(order, predicate);
      expect(await walkForward((window) => page(filter, order, window), 2)).toEqual(expected);
      expect(await (await page(filter, order, { first: 1 })).totalCount()).toBe(expected.length);
      expect(await (await page(filter, order, { first: 1, withTotalCount: true })).totalCount()).toBe(expected.length);
    });

    it('counts the filter past a cursor, and on an empty page', async () => {
      const order: OrderOrder = { field: 'CREATED_AT', direction: 'DESC' };
      const first = await page(window2011, order, { first: 2 });
      const second = await page(window2011, order, { first: 2, after: first.pageInfo.endCursor ?? undefined, withTotalCount: true });
      expect(await second.totalCount()).toBe(orders.length);
      const none = await page({ customerId: crypto.randomUUID() }, order, { first: 2, withTotalCount: true });
      expect(none.edges).toEqual([]);
      expect(none.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
      expect(await none.totalCount()).toBe(0);
    });

    it('refuses a cursor it did not issue with VALIDATION_FAILED', async () => {
      for (const window of [{ first: 2, after: 'bm90LWEtY3Vyc29y' }, { last: 2, before: 'bm90LWEtY3Vyc29y' }] satisfies PageWindow[]) {
        const result = await h().reader().findPage(window2011, { field: 'CREATED_AT', direction: 'DESC' }, window);
        expect(!result.ok && result.error.code).toBe('VALIDATION_FAILED');
      }
    });
  });
}
