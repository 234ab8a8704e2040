import { describe, expect, it } from 'vitest';
import { systemContext } from '../../../../../src/platform/op-context.ts';
import { createHandleProviderEvent } from '../../../../../src/modules/orders/application/handle-provider-event.ts';
import type { ProviderEvent } from '../../../../../src/modules/payments/public.ts';
import { CountingDoorbell, seedOrder, setUpOrders } from '../../../../fakes/orders.ts';

/** A PENDING order holding 2 apples, and the use case over fakes. */
function setUp() {
  const doorbell = new CountingDoorbell();
  const world = setUpOrders({ doorbell });
  world.store.setStock('p-apple', 3);
  const order = seedOrder(world.store, { customerId: 'cust-alice', path: [], lines: [{ productId: 'p-apple', quantity: 2, unitPriceMinor: 1_000 }] });
  return { ...world, doorbell, order, handle: createHandleProviderEvent(world.deps) };
}

const event = (id: string, type: ProviderEvent['type']): ProviderEvent => ({ id, type, chargeId: `ch-${id}`, idempotencyKey: `order-${id}` });
const op = () => systemContext('payment-webhook');

describe('handleProviderEvent (the payment webhook workflow)', () => {
  it('records the event with payments, then moves the order to what its payment now is', async () => {
    const { handle, order, payments, store } = setUp();
    payments.eventOutcomes.set('ev-1', { applied: true, orderId: order.id, payment: 'SUCCEEDED' });

    const result = await handle(op(), event('ev-1', 'charge.succeeded'));

    expect(result).toEqual({ applied: true, orderId: order.id });
    expect(payments.providerEvents.map((e) => e.id)).toEqual(['ev-1']);
    expect(store.orderById(order.id)?.status).toBe('PAID');
  });

  it('brings the order in line on a replay too, finishing a delivery cut off between payment and order', async () => {
    const { handle, order, payments, store } = setUp();
    payments.eventOutcomes.set('ev-2', { applied: false, orderId: order.id, payment: 'DECLINED' });

    const result = await handle(op(), event('ev-2', 'charge.failed'));

    expect(result).toEqual({ applied: false, orderId: order.id });
    expect(store.orderById(order.id)).toMatchObject({ status: 'PAYMENT_FAILED' });
    expect(store.stockOf('p-apple')).toBe(5);
  });

  it('touches no order for a charge that is not ours', async () => {
    const { handle, order, store, doorbell } = setUp();

    const result = await handle(op(), event('ev-3', 'charge.succeeded'));

    expect(result).toEqual({ applied: false, orderId: null });
    expect(store.orderById(order.id)?.status).toBe('PENDING');
    expect(doorbell.rings).toBe(0);
  });
});
