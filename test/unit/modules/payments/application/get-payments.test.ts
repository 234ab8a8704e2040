import { describe, expect, it } from 'vitest';
import { systemContext } from '../../../../../src/platform/op-context.ts';
import { createGetPaymentsByOrderIds } from '../../../../../src/modules/payments/application/get-payments.ts';
import { InMemoryPaymentRepository, paymentFixture } from '../../../../fakes/payments.ts';

describe('getPaymentsByOrderIds', () => {
  it('returns one entry per requested order id, in request order, null where there is no payment', async () => {
    const payments = new InMemoryPaymentRepository();
    const first = paymentFixture();
    const second = paymentFixture({ status: 'SUCCEEDED', providerChargeId: 'ch_2' });
    payments.seed(first);
    payments.seed(second);
    const getPaymentsByOrderIds = createGetPaymentsByOrderIds({ payments });
    const missing = crypto.randomUUID();

    const result = await getPaymentsByOrderIds(systemContext('test'), [second.orderId, missing, first.orderId, second.orderId]);

    expect(result).toEqual([second, null, first, second]);
  });

  it('returns an empty list for no ids', async () => {
    const getPaymentsByOrderIds = createGetPaymentsByOrderIds({ payments: new InMemoryPaymentRepository() });

    expect(await getPaymentsByOrderIds(systemContext('test'), [])).toEqual([]);
  });
});
