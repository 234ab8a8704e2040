import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../../src/platform/errors.ts';
import { DEFAULT_PAGE_SIZE } from '../../../../../src/platform/pagination.ts';
import { DEFAULT_ORDER_ORDER, createListOrders } from '../../../../../src/modules/orders/application/list-orders.ts';
import { adminOp, anonymousOp, customerOp, errorOf, seedOrder, setUpOrders, valueOf } from '../../../../fakes/orders.ts';

const ALICE = 'cust-alice';
const BOB = 'cust-bob';

const day = (n: number) => new Date(Date.UTC(2026, 10, n, 12));

function setUp() {
  const world = setUpOrders();
  seedOrder(world.store, { customerId: ALICE, id: 'a-1', createdAt: day(1), path: ['PAID'] });
  seedOrder(world.store, { customerId: BOB, id: 'b-1', createdAt: day(2) });
  seedOrder(world.store, { customerId: ALICE, id: 'a-2', createdAt: day(3) });
  seedOrder(world.store, { customerId: BOB, id: 'b-2', createdAt: day(4), path: ['PAID'] });
  return { ...world, listOrders: createListOrders({ reader: world.store }) };
}

const ids = (page: { edges: readonly { node: { id: string } }[] }) => page.edges.map((edge) => edge.node.id);

describe('listOrders', () => {
  it("scopes a customer to their own orders, newest first by default", async () => {
    const { listOrders, store } = setUp();

    const page = valueOf(await listOrders(customerOp(ALICE), {}));

    expect(ids(page)).toEqual(['a-2', 'a-1']);
    expect(await page.totalCount()).toBe(2);
    expect(store.pageCalls).toEqual([{ filter: { customerId: ALICE }, order: DEFAULT_ORDER_ORDER, window: { first: DEFAULT_PAGE_SIZE } }]);
  });

  it("gives a customer asking for another customer's orders an empty page, without reading", async () => {
    const { listOrders, store } = setUp();

    const page = valueOf(await listOrders(customerOp(ALICE), { filter: { customerId: BOB } }));

    expect(page.edges).toEqual([]);
    expect(page.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
    expect(await page.totalCount()).toBe(0);
    expect(store.pageCalls).toEqual([]);
  });

  it('keeps a customer\'s other filters but always forces their own customerId', async () => {
    const { listOrders, store } = setUp();

    const page = valueOf(await listOrders(customerOp(ALICE), { filter: { customerId: ALICE, statuses: ['PAID'] } }));

    expect(ids(page)).toEqual(['a-1']);
    expect(store.pageCalls[0]?.filter).toEqual({ customerId: ALICE, statuses: ['PAID'] });
  });

  it('gives anonymous callers an empty page', async () => {
    const { listOrders, store } = setUp();

    const page = valueOf(await listOrders(anonymousOp(), {}));

    expect(page.edges).toEqual([]);
    expect(store.pageCalls).toEqual([]);
  });

  it('shows an admin every order, and one customer\'s with filter.customerId', async () => {
    const { listOrders, store } = setUp();

    const all = valueOf(await listOrders(adminOp(), { orderBy: { field: 'CREATED_AT', direction: 'ASC' } }));
    const bobs = valueOf(await listOrders(adminOp(), { filter: { customerId: BOB } }));

    expect(ids(all)).toEqual(['a-1', 'b-1', 'a-2', 'b-2']);
    expect(ids(bobs)).toEqual(['b-2', 'b-1']);
    expect(store.pageCalls.map((call) => call.filter)).toEqual([{}, { customerId: BOB }]);
  });

  it('pages with first/after', async () => {
    const { listOrders } = setUp();

    const first = valueOf(await listOrders(adminOp(), { first: 3 }));
    const second = valueOf(await listOrders(adminOp(), { first: 3, after: first.pageInfo.endCursor }));

    expect(ids(first)).toEqual(['b-2', 'a-2', 'b-1']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(ids(second)).toEqual(['a-1']);
    expect(second.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });

  it('answers VALIDATION_FAILED for bad pagination arguments, naming each', async () => {
    const { listOrders, store } = setUp();

    const error = errorOf(await listOrders(customerOp(ALICE), { first: 101, last: 2 }));

    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues.map((i) => i.path)).toEqual([['first'], ['last']]);
    expect(store.pageCalls).toEqual([]);
  });
});
