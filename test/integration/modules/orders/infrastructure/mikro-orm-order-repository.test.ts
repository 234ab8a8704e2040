import pg from 'pg';
import { beforeAll, describe, it, expect } from 'vitest';
import { Cursor } from '@mikro-orm/postgresql';
import { eventually } from '../../../../support/eventually.ts';
import { useTestDatabase } from '../../../../support/test-database.ts';
import { walkBackward as walkPagesBackward, walkForward as walkPagesForward } from '../../../../support/paging.ts';
import type { Order, OrderLine, OrderStatusChange } from '../../../../../src/modules/orders/domain/order.ts';
import type { OrderStatus } from '../../../../../src/modules/orders/domain/status-machine.ts';
import type { OrderFilter, OrderOrder, OrdersTransaction } from '../../../../../src/modules/orders/application/ports.ts';
import { MikroOrmOrderReader } from '../../../../../src/modules/orders/infrastructure/mikro-orm-order-repository.ts';
import { createCatalogModule } from '../../../../../src/modules/catalog/module.ts';
import { createPaymentsModule, SimulatedPaymentProvider } from '../../../../../src/modules/payments/module.ts';
import { MikroOrmOrdersUnitOfWork } from '../../../../../src/modules/orders/infrastructure/mikro-orm-orders-unit-of-work.ts';
import type { PageWindow } from '../../../../../src/platform/pagination.ts';
import { draftOf } from '../../../../unit/modules/orders/contracts/order-reader.contract.ts';
import { err, ok } from '../../../../../src/platform/result.ts';

type Draft = Omit<Order, 'number'>;
type DraftLine = Omit<OrderLine, 'orderId'>;

const database = useTestDatabase();

const uow = () =>
  new MikroOrmOrdersUnitOfWork(database.orm.em.fork(), {
    stockReservations: createCatalogModule({ currency: 'USD' }).stockReservations,
    paymentStatements: createPaymentsModule({ provider: new SimulatedPaymentProvider({ latencyMs: 0, declineAboveMinor: Number.MAX_SAFE_INTEGER }), callBudgetMs: 1_000 }).paymentStatements,
  });
const reader = () => new MikroOrmOrderReader(database.orm.em.fork());
const sql = <R = Record<string, unknown>>(query: string, params: unknown[] = []) => database.orm.em.fork().getConnection().execute<R[]>(query, params);

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Resolves once `parties` callers are waiting. On a real PostgreSQL it makes concurrent
 * transactions meet inside their transactions; the embedded PGlite has one connection, so
 * transactions run one after another there and a rendezvous would wait forever: no-op.
 */
const rendezvous = (parties: number): (() => Promise<void>) => {
  if (database.db.embedded) return async () => {};
  let waiting = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => {
    release = resolve;
  });
  return async () => {
    waiting += 1;
    if (waiting === parties) release();
    await all;
  };
};

async function insertCustomer(): Promise<string> {
  const id = crypto.randomUUID();
  await sql('insert into customers (id, email, name, password_hash) values (?, ?, ?, ?)', [id, `${id}@example.com`, 'Test Customer', 'hash']);
  return id;
}

async function insertProduct(fields: { stock?: number; active?: boolean; priceMinor?: number } = {}): Promise<string> {
  const id = crypto.randomUUID();
  await sql('insert into catalog_products (id, sku, name, price_minor, stock, active) values (?, ?, ?, ?, ?, ?)', [
    id,
    `P-${id.slice(0, 13).toUpperCase()}`,
    'Widget',
    fields.priceMinor ?? 1_000,
    fields.stock ?? 100,
    fields.active ?? true,
  ]);
  return id;
}

async function stockOf(productId: string): Promise<number> {
  const [row] = await sql<{ stock: number }>('select stock from catalog_products where id = ?', [productId]);
  return Number(row?.stock);
}

async function countRows(table: 'orders' | 'order_lines' | 'order_status_history', orderId: string): Promise<number> {
  const column = table === 'orders' ? 'id' : 'order_id';
  const [row] = await sql<{ n: string }>(`select count(*) as n from ${table} where ${column} = ?`, [orderId]);
  return Number(row?.n);
}

const AT = new Date('2026-02-01T10:00:00.000Z');

function draftOrder(customerId: string, fields: Partial<Draft> = {}): Draft {
  return draftOf(customerId, fields.createdAt ?? AT, fields);
}

const lineFor = (productId: string, position = 1, quantity = 2): DraftLine => ({
  position,
  productId,
  productName: `Widget ${position}`,
  quantity,
  unitPriceMinor: 1_000,
  lineTotalMinor: 1_000 * quantity,
});

const creationOf = (order: Draft): OrderStatusChange => ({
  orderId: order.id,
  customerId: order.customerId,
  version: 1,
  from: null,
  to: order.status,
  at: order.createdAt,
  actor: `customer:${order.customerId}`,
  reason: null,
});

const changeOf = (order: Pick<Order, 'id' | 'customerId'>, version: number, from: OrderStatus, to: OrderStatus, minutes = version): OrderStatusChange => ({
  orderId: order.id,
  customerId: order.customerId,
  version,
  from,
  to,
  at: new Date(AT.getTime() + minutes * 60_000),
  actor: 'admin:someone',
  reason: to === 'CANCELLED' ? 'asked by the customer' : null,
});

/** Inserts one order in a committed transaction of its own. */
async function place(order: Draft, lines: readonly DraftLine[]): Promise<Order> {
  const result = await uow().transaction(async (tx) => ok(await tx.insertOrder(order, lines, creationOf(order))));
  if (!result.ok || result.value === 'DUPLICATE_IDEMPOTENCY_KEY') throw new Error('insert failed');
  return result.value;
}

/** Applies one change in a committed transaction of its own; undefined when it did not apply. */
async function change(c: OrderStatusChange): Promise<Order | undefined> {
  const result = await uow().transaction(async (tx) => ok(await tx.saveStatusChange(c)));
  if (!result.ok) throw new Error('unexpected error result');
  return result.value;
}

describe('MikroOrmOrdersUnitOfWork', () => {
  let customerId: string;
  let productId: string;
  beforeAll(async () => {
    customerId = await insertCustomer();
    productId = await insertProduct({ stock: 1_000 });
  });

  describe('insertOrder', () => {
    it('writes the order, its lines and history version 1, and returns the order with its number', async () => {
      const draft = draftOrder(customerId);
      const lines = [lineFor(productId, 1, 2), lineFor(await insertProduct(), 2, 1)];
      const saved = await place(draft, lines);
      expect(saved).toEqual({ ...draft, number: expect.any(Number) });
      expect(Number.isSafeInteger(saved.number) && saved.number >= 1).toBe(true);
      expect(await reader().findByIds([draft.id])).toEqual([saved]);
      expect(await reader().findLines([draft.id])).toEqual(lines.map((line) => ({ ...line, orderId: draft.id })));
      expect(await reader().findHistory([draft.id])).toEqual([creationOf(draft)]);
    });

    it('assigns increasing numbers', async () => {
      const numbers: number[] = [];
      for (let i = 0; i < 4; i += 1) numbers.push((await place(draftOrder(customerId), [lineFor(productId)])).number);
      expect([...numbers].sort((a, b) => a - b)).toEqual(numbers);
      expect(new Set(numbers).size).toBe(4);
    });

    it("answers a second insert of the same (customer, key) in the same transaction with 'DUPLICATE_IDEMPOTENCY_KEY' and keeps the transaction usable", async () => {
      const first = draftOrder(customerId);
      const twin = draftOrder(customerId, { idempotencyKey: first.idempotencyKey, totalMinor: 1 });
      const after = draftOrder(customerId);
      const stock = await stockOf(productId);
      const result = await uow().transaction(async (tx) => {
        const a = await tx.insertOrder(first, [lineFor(productId)], creationOf(first));
        const b = await tx.insertOrder(twin, [lineFor(productId)], creationOf(twin));
        // Statements after the conflict still work (no "current transaction is aborted").
        const short = await tx.reserveStock([{ productId, quantity: 3 }]);
        const c = await tx.insertOrder(after, [lineFor(productId)], creationOf(after));
        return ok({ a, b, short, c });
      });
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.value.b).toBe('DUPLICATE_IDEMPOTENCY_KEY');
      expect(result.value.short).toBeUndefined();
      expect(typeof result.value.a === 'object' && typeof result.value.c === 'object').toBe(true);
      const found = await reader().findByIds([first.id, twin.id, after.id]);
      expect(found.map((o) => o.id).sort(byString)).toEqual([first.id, after.id].sort(byString));
      expect(await countRows('order_lines', twin.id)).toBe(0);
      expect(await countRows('order_status_history', twin.id)).toBe(0);
      expect(await stockOf(productId)).toBe(stock - 3);
    });

    it("answers a key a committed order of the same customer holds with 'DUPLICATE_IDEMPOTENCY_KEY'; another customer may use it", async () => {
      const first = await place(draftOrder(customerId), [lineFor(productId)]);
      const again = draftOrder(customerId, { idempotencyKey: first.idempotencyKey });
      const result = await uow().transaction(async (tx) => ok(await tx.insertOrder(again, [lineFor(productId)], creationOf(again))));
      expect(result).toEqual({ ok: true, value: 'DUPLICATE_IDEMPOTENCY_KEY' });
      expect(await reader().findByIds([again.id])).toEqual([]);
      const other = draftOrder(await insertCustomer(), { idempotencyKey: first.idempotencyKey });
      expect((await place(other, [lineFor(productId)])).id).toBe(other.id);
    });

    it('lets exactly one of two racing inserts with the same key win', async () => {
      const key = `race-${crypto.randomUUID()}`;
      const drafts = [draftOrder(customerId, { idempotencyKey: key }), draftOrder(customerId, { idempotencyKey: key })];
      const meet = rendezvous(2);
      const outcomes = await Promise.all(
        drafts.map((draft) =>
          uow().transaction(async (tx) => {
            await meet();
            const saved = await tx.insertOrder(draft, [lineFor(productId)], creationOf(draft));
            return saved === 'DUPLICATE_IDEMPOTENCY_KEY' ? err(saved) : ok(saved);
          }),
        ),
      );
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok)).toEqual([{ ok: false, error: 'DUPLICATE_IDEMPOTENCY_KEY' }]);
      const winner = outcomes.find((o) => o.ok);
      expect(await reader().findByIdempotencyKey(customerId, key)).toEqual(winner?.ok ? winner.value : undefined);
    });
  });

  describe('transaction', () => {
    it('commits everything when the work returns ok', async () => {
      const product = await insertProduct({ stock: 5 });
      const draft = draftOrder(customerId);
      const result = await uow().transaction(async (tx) => {
        const short = await tx.reserveStock([{ productId: product, quantity: 5 }]);
        if (short) return err('OUT_OF_STOCK' as const);
        return ok(await tx.insertOrder(draft, [lineFor(product, 1, 5)], creationOf(draft)));
      });
      expect(result.ok).toBe(true);
      expect(await stockOf(product)).toBe(0);
      expect(await countRows('orders', draft.id)).toBe(1);
    });

    it('rolls back everything it wrote when the work returns an error, and returns that error', async () => {
      const product = await insertProduct({ stock: 5 });
      const draft = draftOrder(customerId);
      const existing = await place(draftOrder(customerId), [lineFor(productId)]);
      const sharedStock = await stockOf(productId);
      const result = await uow().transaction(async (tx) => {
        // The status change first: ADR 0012 wants it to be its transaction's first write.
        expect(await tx.saveStatusChange(changeOf(existing, 2, 'PENDING', 'CANCELLED'))).toBeDefined();
        expect(await tx.reserveStock([{ productId: product, quantity: 4 }])).toBeUndefined();
        expect(typeof (await tx.insertOrder(draft, [lineFor(product, 1, 4)], creationOf(draft)))).toBe('object');
        await tx.releaseStock([{ productId, quantity: 7 }]);
        return err({ code: 'CHANGED_MY_MIND' });
      });
      expect(result).toEqual({ ok: false, error: { code: 'CHANGED_MY_MIND' } });
      expect(await stockOf(product)).toBe(5);
      expect(await stockOf(productId)).toBe(sharedStock);
      expect(await countRows('orders', draft.id)).toBe(0);
      expect(await countRows('order_lines', draft.id)).toBe(0);
      expect(await countRows('order_status_history', draft.id)).toBe(0);
      expect(await reader().findByIdempotencyKey(customerId, draft.idempotencyKey)).toBeUndefined();
      expect(await reader().findByIds([existing.id])).toEqual([existing]);
      expect(await reader().findHistory([existing.id])).toHaveLength(1);
    });

    it('rolls back and rethrows when the work throws', async () => {
      const product = await insertProduct({ stock: 2 });
      const draft = draftOrder(customerId);
      const boom = new Error('boom');
      await expect(
        uow().transaction(async (tx) => {
          await tx.reserveStock([{ productId: product, quantity: 2 }]);
          await tx.insertOrder(draft, [lineFor(product)], creationOf(draft));
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await stockOf(product)).toBe(2);
      expect(await countRows('orders', draft.id)).toBe(0);
    });

    it('reports the product that lacks stock and, rolled back, takes none of the other lines', async () => {
      const plenty = await insertProduct({ stock: 10 });
      const scarce = await insertProduct({ stock: 1 });
      const result = await uow().transaction(async (tx: OrdersTransaction) => {
        const short = await tx.reserveStock([{ productId: plenty, quantity: 3 }, { productId: scarce, quantity: 2 }]);
        return short ? err(short) : ok(undefined);
      });
      expect(result).toEqual({ ok: false, error: scarce });
      expect([await stockOf(plenty), await stockOf(scarce)]).toEqual([10, 1]);
    });
  });

  describe('saveStatusChange', () => {
    it('applies a change from the expected version and status, and appends it to the history', async () => {
      const order = await place(draftOrder(customerId), [lineFor(productId)]);
      const paid = changeOf(order, 2, 'PENDING', 'PAID');
      const updated = await change(paid);
      expect(updated).toEqual({ ...order, status: 'PAID', version: 2, updatedAt: paid.at });
      expect(await reader().findByIds([order.id])).toEqual([updated]);
      const shipped = changeOf(order, 3, 'PAID', 'SHIPPED');
      expect(await change(shipped)).toMatchObject({ status: 'SHIPPED', version: 3 });
      expect(await reader().findHistory([order.id])).toEqual([creationOf(order), paid, shipped]);
    });

    it.each<[string, number, OrderStatus, OrderStatus]>([
      ['a stale version (the one already applied)', 2, 'PENDING', 'CANCELLED'],
      ['a version from the future', 4, 'PAID', 'SHIPPED'],
      ['the right version but another from-status', 3, 'PENDING', 'CANCELLED'],
    ])('returns undefined and changes nothing for %s', async (_label, version, from, to) => {
      const order = await place(draftOrder(customerId), [lineFor(productId)]);
      const paid = await change(changeOf(order, 2, 'PENDING', 'PAID'));
      expect(await change(changeOf(order, version, from, to))).toBeUndefined();
      expect(await reader().findByIds([order.id])).toEqual([paid]);
      expect((await reader().findHistory([order.id])).map((c) => c.version)).toEqual([1, 2]);
    });

    it('returns undefined for an order that does not exist', async () => {
      expect(await change(changeOf({ id: crypto.randomUUID(), customerId }, 2, 'PENDING', 'PAID'))).toBeUndefined();
    });

    it('lets exactly one of two concurrent changes from the same version win', async () => {
      const order = await place(draftOrder(customerId), [lineFor(productId)]);
      const contenders = [changeOf(order, 2, 'PENDING', 'PAID'), changeOf(order, 2, 'PENDING', 'CANCELLED')];
      const meet = rendezvous(2);
      const outcomes = await Promise.all(
        contenders.map((c) =>
          uow().transaction(async (tx) => {
            await meet();
            const saved = await tx.saveStatusChange(c);
            return saved ? ok(saved) : err('STALE' as const);
          }),
        ),
      );
      const winners = outcomes.flatMap((o) => (o.ok ? [o.value] : []));
      expect(winners).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok)).toEqual([{ ok: false, error: 'STALE' }]);
      const [current] = await reader().findByIds([order.id]);
      expect(current).toEqual(winners[0]);
      const history = await reader().findHistory([order.id]);
      expect(history.map((c) => c.version)).toEqual([1, 2]);
      expect(history[1]?.to).toBe(current?.status);
    });
  });
});

describe('MikroOrmOrderReader', () => {
  let customerId: string;
  let productIds: string[];
  beforeAll(async () => {
    customerId = await insertCustomer();
    productIds = [await insertProduct(), await insertProduct(), await insertProduct()];
  });

  it('findByIds leaves out missing ids and answers [] for no ids', async () => {
    const a = await place(draftOrder(customerId), [lineFor(productIds[0]!)]);
    const b = await place(draftOrder(customerId), [lineFor(productIds[0]!)]);
    const found = await reader().findByIds([b.id, crypto.randomUUID(), a.id]);
    expect([...found].sort((x, y) => byString(x.id, y.id))).toEqual([a, b].sort((x, y) => byString(x.id, y.id)));
    expect(await reader().findByIds([])).toEqual([]);
  });

  it('findByIdempotencyKey finds the order of that customer only', async () => {
    const other = await insertCustomer();
    const mine = await place(draftOrder(customerId, { idempotencyKey: 'shared-key' }), [lineFor(productIds[0]!)]);
    const theirs = await place(draftOrder(other, { idempotencyKey: 'shared-key' }), [lineFor(productIds[0]!)]);
    expect(await reader().findByIdempotencyKey(customerId, 'shared-key')).toEqual(mine);
    expect(await reader().findByIdempotencyKey(other, 'shared-key')).toEqual(theirs);
    expect(await reader().findByIdempotencyKey(customerId, 'no-such-key')).toBeUndefined();
    expect(await reader().findByIdempotencyKey(await insertCustomer(), 'shared-key')).toBeUndefined();
  });

  it('findLines returns the lines ordered by order, then position', async () => {
    const [p1, p2, p3] = productIds as [string, string, string];
    const a = await place(draftOrder(customerId), [lineFor(p3, 3, 1), lineFor(p1, 1, 4), lineFor(p2, 2, 2)]);
    const b = await place(draftOrder(customerId), [lineFor(p2, 2, 1), lineFor(p1, 1, 1)]);
    const linesOfA = [lineFor(p1, 1, 4), lineFor(p2, 2, 2), lineFor(p3, 3, 1)].map((line) => ({ ...line, orderId: a.id }));
    const linesOfB = [lineFor(p1, 1, 1), lineFor(p2, 2, 1)].map((line) => ({ ...line, orderId: b.id }));
    const expected = a.id < b.id ? [...linesOfA, ...linesOfB] : [...linesOfB, ...linesOfA];
    expect(await reader().findLines([b.id, a.id])).toEqual(expected);
    expect(await reader().findLines([])).toEqual([]);
    expect(await reader().findLines([crypto.randomUUID()])).toEqual([]);
  });

  it('findHistory returns the trail ordered by order, then version; findHistorySince the versions after one', async () => {
    const a = await place(draftOrder(customerId), [lineFor(productIds[0]!)]);
    const b = await place(draftOrder(customerId), [lineFor(productIds[0]!)]);
    const trailA = [creationOf(a), changeOf(a, 2, 'PENDING', 'PAID'), changeOf(a, 3, 'PAID', 'SHIPPED'), changeOf(a, 4, 'SHIPPED', 'DELIVERED')];
    const trailB = [creationOf(b), changeOf(b, 2, 'PENDING', 'CANCELLED')];
    // Interleave the writes, so that insertion order is not what the reads return.
    for (const c of [trailA[1]!, trailB[1]!, trailA[2]!, trailA[3]!]) expect(await change(c)).toBeDefined();
    const expected = a.id < b.id ? [...trailA, ...trailB] : [...trailB, ...trailA];
    expect(await reader().findHistory([a.id, b.id])).toEqual(expected);
    expect(await reader().findHistory([])).toEqual([]);
    // Written through the unit of work, so each change has its log entry, hence a cursor once the
    // commit horizon has passed it (other sessions of the server may hold it back a moment).
    const logged = (changes: typeof trailA) => changes.map((c) => ({ ...c, cursor: expect.any(String) }));
    const sinceA = await eventually(async () => {
      const since = await reader().findHistorySince(a.id, 0);
      expect(since).toEqual(logged(trailA));
      return since;
    });
    expect(new Set(sinceA.map((c) => c.cursor)).size).toBe(trailA.length);
    expect(await reader().findHistorySince(a.id, 2)).toEqual(sinceA.slice(2));
    expect(await reader().findHistorySince(a.id, 4)).toEqual([]);
    await eventually(async () => expect(await reader().findHistorySince(b.id, 1)).toEqual(logged(trailB.slice(1))));
  });

  // Needs a second connection holding a transaction open: the embedded PGlite has one (CI runs on PostgreSQL).
  it.skipIf(!process.env.TEST_DATABASE_URL)('findHistorySince gives no cursor for a change above the commit horizon (an older transaction is open), and gives it once that one ends', async () => {
    const order = await place(draftOrder(customerId), [lineFor(productIds[0]!)]);
    const older = new pg.Client({ connectionString: database.db.url });
    await older.connect();
    try {
      await older.query('begin');
      await older.query('select pg_current_xact_id()'); // takes its transaction id now: below the next one
      expect(await change(changeOf(order, 2, 'PENDING', 'PAID'))).toBeDefined();

      const [created, paid] = await reader().findHistorySince(order.id, 0);

      expect(created!.cursor).toEqual(expect.any(String));
      // An all-orders stream resuming after it could skip what the older transaction still commits.
      expect(paid).toMatchObject({ version: 2, cursor: null });
    } finally {
      await older.query('rollback');
      await older.end();
    }
    // Other sessions of the server may hold the horizon back a moment longer.
    await eventually(async () => expect((await reader().findHistorySince(order.id, 1))[0]!.cursor).toEqual(expect.any(String)), { what: 'the cursor of v2' });
  });
});

describe('MikroOrmOrderReader.findPage', () => {
  // Every order of this block is created in 2001, and the other blocks' in 2026: a created-at
  // window of 2001 selects exactly these, and scoping by these customers too.
  const inWindow: OrderFilter = { createdAfter: new Date('2001-01-01T00:00:00.000Z'), createdBefore: new Date('2002-01-01T00:00:00.000Z') };
  const minute = (n: number) => new Date(Date.UTC(2001, 5, 1, 12, n));
  let alice: string;
  let bob: string;
  const orders: Order[] = [];
  beforeAll(async () => {
    alice = await insertCustomer();
    bob = await insertCustomer();
    const product = await insertProduct();
    // Ties on created-at and on total exercise the id tie-break.
    const specs: [string, number, number, OrderStatus][] = [
      [alice, 5, 1_800, 'PENDING'],
      [bob, 1, 500, 'PAID'],
      [alice, 3, 1_800, 'SHIPPED'],
      [alice, 3, 9_900, 'PAID'],
      [bob, 3, 1_800, 'CANCELLED'],
      [alice, 0, 100, 'DELIVERED'],
      [bob, 7, 100, 'PAYMENT_FAILED'],
      [alice, 2, 4_200, 'PAID'],
      [bob, 6, 0, 'CANCELLED'],
    ];
    for (const [customer, at, total, status] of specs) {
      orders.push(
        await place(
          draftOrder(customer, {
            createdAt: minute(at),
            updatedAt: minute(at),
            status,
            subtotalMinor: total,
            discountPercent: 0,
            discountMinor: 0,
            totalMinor: total,
          }),
          [lineFor(product)],
        ),
      );
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
    const result = await reader().findPage(filter, order, window);
    if (!result.ok) throw result.error;
    return result.value;
  };
  const pageIds = (p: { edges: readonly { node: Order }[] }) => p.edges.map((edge) => edge.node.id);

  const walkForward = (filter: OrderFilter, order: OrderOrder, size: number) => walkPagesForward((window) => page(filter, order, window), size);
  const walkBackward = (filter: OrderFilter, order: OrderOrder, size: number) => walkPagesBackward((window) => page(filter, order, window), size);

  const orderings: OrderOrder[] = (['CREATED_AT', 'NUMBER', 'TOTAL'] as const).flatMap((field) =>
    (['ASC', 'DESC'] as const).map((direction) => ({ field, direction })),
  );

  it.each(orderings)('orders by $field $direction, then id, and pages forward and backward over every row exactly once', async (order) => {
    const expected = expectedOrder(order);
    expect(pageIds(await page(inWindow, order, { first: 100 }))).toEqual(expected);
    for (const size of [1, 2, 4]) {
      expect(await walkForward(inWindow, order, size)).toEqual(expected);
      expect(await walkBackward(inWindow, order, size)).toEqual(expected);
    }
  });

  it('returns plain orders equal to what was saved', async () => {
    const found = (await page(inWindow, { field: 'NUMBER', direction: 'ASC' }, { first: 100 })).edges.map((edge) => edge.node);
    expect(found).toEqual([...orders].sort((a, b) => a.number - b.number));
  });

  it.each<[string, () => OrderFilter, (o: Order) => boolean]>([
    ['one customer', () => ({ customerId: alice }), (o) => o.customerId === alice],
    ['the other customer', () => ({ ...inWindow, customerId: bob }), (o) => o.customerId === bob],
    ['a customer without orders', () => ({ customerId: crypto.randomUUID() }), () => false],
    ['statuses', () => ({ ...inWindow, statuses: ['PAID', 'CANCELLED'] }), (o) => o.status === 'PAID' || o.status === 'CANCELLED'],
    ['an empty status list (no restriction)', () => ({ ...inWindow, statuses: [] }), () => true],
    ['a customer and a status', () => ({ customerId: alice, statuses: ['PAID'] }), (o) => o.customerId === alice && o.status === 'PAID'],
    ['createdAfter, inclusive', () => ({ customerId: alice, createdAfter: minute(3) }), (o) => o.customerId === alice && o.createdAt >= minute(3)],
    ['createdBefore, exclusive', () => ({ customerId: bob, createdBefore: minute(3) }), (o) => o.customerId === bob && o.createdAt < minute(3)],
    ['a created-at range', () => ({ createdAfter: minute(2), createdBefore: minute(6) }), (o) => o.createdAt >= minute(2) && o.createdAt < minute(6)],
  ])('scopes to %s, in every ordering, and counts the matches', async (_label, filterOf, predicate) => {
    const filter = filterOf();
    for (const order of orderings) {
      const expected = expectedOrder(order, predicate);
      expect(await walkForward(filter, order, 2)).toEqual(expected);
      expect(await walkBackward(filter, order, 3)).toEqual(expected);
      expect(await (await page(filter, order, { first: 1 })).totalCount()).toBe(expected.length);
    }
  });

  it('keeps cursors stable: the same cursor gives the same page, also after new orders arrive before it', async () => {
    const carol = await insertCustomer();
    const product = await insertProduct();
    for (const n of [10, 20, 30, 40, 50]) await place(draftOrder(carol, { createdAt: minute(n), updatedAt: minute(n) }), [lineFor(product)]);
    const filter: OrderFilter = { customerId: carol };
    const order: OrderOrder = { field: 'CREATED_AT', direction: 'ASC' };
    const first = await page(filter, order, { first: 2 });
    const cursor = first.pageInfo.endCursor ?? undefined;
    const second = await page(filter, order, { first: 2, after: cursor });
    expect(pageIds(await page(filter, order, { first: 2, after: cursor }))).toEqual(pageIds(second));
    // An order that sorts before the cursor must not shift the next page (keyset, not offset).
    await place(draftOrder(carol, { createdAt: minute(5), updatedAt: minute(5) }), [lineFor(product)]);
    expect(pageIds(await page(filter, order, { first: 2, after: cursor }))).toEqual(pageIds(second));
    const edgeCursor = second.edges[0]!.cursor;
    expect(pageIds(await page(filter, order, { last: 10, before: edgeCursor }))).toHaveLength(3);
  });

  describe('refuses a cursor it did not issue with VALIDATION_FAILED (a result, never a throw)', () => {
    const encoded = (value: unknown) => Cursor.encode(value as never);
    const cases: [string, OrderOrder['field'], () => string][] = [
      ['garbage', 'CREATED_AT', () => 'bm90LWEtY3Vyc29y'],
      ['the wrong number of keys', 'NUMBER', () => encoded([1])],
      ['a malformed id', 'CREATED_AT', () => encoded(['2001-06-01T12:00:00.000Z', 'nope'])],
      ['a non-date for CREATED_AT', 'CREATED_AT', () => encoded(['soon', crypto.randomUUID()])],
      // Regression: MikroORM throws CursorError for values that do not convert to the bigint column;
      // findPage only turns DriverException into a result (see the catalog repository test).
      ['a string for NUMBER', 'NUMBER', () => encoded(['one', crypto.randomUUID()])],
      ['a date string for TOTAL (a CREATED_AT cursor)', 'TOTAL', () => encoded(['2001-06-01T12:00:00.000Z', crypto.randomUUID()])],
    ];
    it.each(cases)('%s (%s ordering)', async (_label, field, cursorOf) => {
      const cursor = cursorOf();
      for (const window of [{ first: 2, after: cursor }, { last: 2, before: cursor }] satisfies PageWindow[]) {
        const result = await reader().findPage(inWindow, { field, direction: 'DESC' }, window);
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.error.code).toBe('VALIDATION_FAILED');
      }
    });
  });
});
