import { describe, expect, it } from 'vitest';
import { createGetOrderLines, createGetOrders, createGetStatusHistory } from '../../../../../src/modules/orders/application/get-orders.ts';
import { adminOp, anonymousOp, customerOp, seedOrder, setUpOrders } from '../../../../fakes/orders.ts';

const ALICE = 'cust-alice';
const BOB = 'cust-bob';

function setUp() {
  const world = setUpOrders();
  const a1 = seedOrder(world.store, { customerId: ALICE, id: 'order-a1', path: ['PAID'] });
  const a2 = seedOrder(world.store, {
    customerId: ALICE,
    id: 'order-a2',
    lines: [
      { productId: 'p-apple', quantity: 1, unitPriceMinor: 100 },
      { productId: 'p-pear', quantity: 2, unitPriceMinor: 50 },
    ],
  });
  const b1 = seedOrder(world.store, { customerId: BOB, id: 'order-b1', path: ['PAID', 'SHIPPED'] });
  const reader = world.store;
  return {
    ...world,
    a1,
    a2,
    b1,
    getOrders: createGetOrders({ reader }),
    getOrderLines: createGetOrderLines({ reader }),
    getStatusHistory: createGetStatusHistory({ reader }),
  };
}

describe('getOrders', () => {
  it("returns the viewer's orders in the order of the ids asked, null for others' and for missing ids", async () => {
    const { getOrders, a1, a2 } = setUp();

    const orders = await getOrders(customerOp(ALICE), ['order-a2', 'order-b1', 'missing', 'order-a1', 'order-a2']);

    expect(orders).toEqual([a2, null, null, a1, a2]);
  });

  it("gives another customer's order exactly the answer of a missing id", async () => {
    const { getOrders } = setUp();

    expect(await getOrders(customerOp(BOB), ['order-a1'])).toEqual(await getOrders(customerOp(BOB), ['missing']));
    expect(await getOrders(customerOp(BOB), ['order-a1'])).toEqual([null]);
  });

  it('answers null for every id to anonymous callers, without reading', async () => {
    const { getOrders, store } = setUp();

    expect(await getOrders(anonymousOp(), ['order-a1', 'order-b1'])).toEqual([null, null]);
    expect(store.idLookups).toEqual([]);
  });

  it('shows an admin every order, in the order asked', async () => {
    const { getOrders, a1, b1 } = setUp();

    expect(await getOrders(adminOp(), ['order-b1', 'order-a1'])).toEqual([b1, a1]);
  });

  it('reads each id once', async () => {
    const { getOrders, store } = setUp();

    await getOrders(customerOp(ALICE), ['order-a1', 'order-a1', 'order-a2']);

    expect(store.idLookups).toEqual([['order-a1', 'order-a2']]);
  });
});

describe('getOrderLines / getStatusHistory', () => {
  it('return one list per order id, in the order asked, lines by position, [] for unknown ids', async () => {
    const { getOrderLines } = setUp();

    const lines = await getOrderLines(adminOp(), ['order-a2', 'missing', 'order-a1']);

    expect(lines.map((list) => list.map((l) => [l.orderId, l.position, l.productId]))).toEqual([
      [
        ['order-a2', 1, 'p-apple'],
        ['order-a2', 2, 'p-pear'],
      ],
      [],
      [['order-a1', 1, 'p-apple']],
    ]);
  });

  it('returns each order history by version, in the order asked', async () => {
    const { getStatusHistory } = setUp();

    const histories = await getStatusHistory(adminOp(), ['order-b1', 'order-a2', 'order-b1']);

    expect(histories.map((list) => list.map((c) => `${c.orderId}@${c.version}:${c.to}`))).toEqual([
      ['order-b1@1:PENDING', 'order-b1@2:PAID', 'order-b1@3:SHIPPED'],
      ['order-a2@1:PENDING'],
      ['order-b1@1:PENDING', 'order-b1@2:PAID', 'order-b1@3:SHIPPED'],
    ]);
  });
});
