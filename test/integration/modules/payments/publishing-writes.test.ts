import { beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../support/test-database.ts';
import { FakePaymentProvider } from '../../../fakes/payments.ts';
import { createPaymentsModule } from '../../../../src/modules/payments/module.ts';
import { PaymentProviderUnavailableError } from '../../../../src/modules/payments/application/ports.ts';
import { chargeIdempotencyKey } from '../../../../src/modules/payments/domain/payment.ts';
import { inertChangeFeed, type ChangeFeed, type CommittedChange } from '../../../../src/platform/change-feed.ts';
import { systemContext } from '../../../../src/platform/op-context.ts';

// The payments module publishes `{ kind: 'payment', orderId }` on the change feed after each of its
// writes, committed (the response cache's signal for payment writes that have no order log entry,
// ADR 0015), also when the use case failed after writing, and not when it wrote nothing.
const database = useTestDatabase();

/** What was published, with the payment's status a fresh connection read at that moment (so: committed before it). */
interface Published {
  readonly change: CommittedChange;
  readonly committedStatus: Promise<string | undefined>;
}

const statusOf = async (orderId: string): Promise<string | undefined> => {
  const rows = await database.orm.em.fork().getConnection().execute<{ status: string }[]>('select status from payments where order_id = ?', [orderId]);
  return rows[0]?.status;
};

let provider: FakePaymentProvider;
let published: Published[];
const op = systemContext('test');
const payments = () => {
  const changes: ChangeFeed = {
    ...inertChangeFeed,
    publish: (list) => {
      for (const change of list) published.push({ change, committedStatus: change.kind === 'payment' ? statusOf(change.orderId) : Promise.resolve(undefined) });
    },
  };
  return createPaymentsModule({ provider, callBudgetMs: 1_000, changes }).forRequest({ op, client: undefined, em: database.orm.em.fork() });
};
const charge = (orderId: string) => payments().chargeOrder(op, { orderId, amountMinor: 2_500, currency: 'USD' });
const unavailable = async (): Promise<never> => {
  throw new PaymentProviderUnavailableError('provider down');
};

/** The statuses committed when each change was published, after checking they all name `orderId`. */
async function publishedFor(orderId: string): Promise<(string | undefined)[]> {
  expect(published.map((p) => p.change)).toEqual(published.map(() => ({ kind: 'payment', orderId })));
  return Promise.all(published.map((p) => p.committedStatus));
}

beforeEach(() => {
  provider = new FakePaymentProvider();
  published = [];
});

describe('payments publish their committed writes', () => {
  it('publishes a charge once it is on record', async () => {
    const orderId = crypto.randomUUID();
    expect((await charge(orderId)).ok).toBe(true);
    expect(await publishedFor(orderId)).toEqual(['SUCCEEDED']);
  });

  it('publishes a refund once it is on record, and one the provider failed (its request is on record)', async () => {
    const refunded = crypto.randomUUID();
    await charge(refunded);
    published = [];
    await payments().refundOrder(op, { orderId: refunded });
    expect(await publishedFor(refunded)).toEqual(['REFUNDED']);

    const failed = crypto.randomUUID();
    await charge(failed);
    published = [];
    provider.onRefund = unavailable;
    await expect(payments().refundOrder(op, { orderId: failed })).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    expect(await publishedFor(failed)).toEqual(['SUCCEEDED']);
    expect((await payments().listPaymentsToReconcile(op, { olderThan: new Date(Date.now() + 60_000), limit: 1_000 })).map((p) => p.orderId)).toContain(failed);
  });

  it('publishes nothing for a charge sent and answered (the orders module records the answer), but does when the call failed', async () => {
    const answered = crypto.randomUUID();
    expect(await payments().sendCharge(op, { orderId: answered, amountMinor: 2_500, currency: 'USD' })).toMatchObject({ outcome: 'SUCCEEDED' });
    expect(published).toEqual([]);

    const failed = crypto.randomUUID();
    provider.onCharge = unavailable;
    await expect(charge(failed)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    await expect(payments().sendCharge(op, { orderId: failed, amountMinor: 2_500, currency: 'USD' })).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    expect(await publishedFor(failed)).toEqual(['PENDING', 'PENDING']);
  });

  it('publishes what reconciliation settled', async () => {
    const orderId = crypto.randomUUID();
    provider.onCharge = unavailable;
    await expect(charge(orderId)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    published = [];
    // The provider holds no charge for the order's key: the attempt is closed as never charged.
    expect(await payments().reconcilePayment(op, { orderId, amountMinor: 2_500, currency: 'USD', payable: true })).toMatchObject({ status: 'VOIDED' });
    expect(await publishedFor(orderId)).toEqual(['VOIDED']);
  });

  it('publishes a provider event it applied, not its replay nor an event for a charge that is not ours', async () => {
    const orderId = crypto.randomUUID();
    provider.onCharge = unavailable;
    await expect(charge(orderId)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    published = [];
    const event = { id: `evt_${orderId}`, type: 'charge.succeeded', chargeId: `ch_${orderId}`, idempotencyKey: chargeIdempotencyKey(orderId) } as const;
    expect(await payments().recordProviderEvent(op, event)).toMatchObject({ applied: true, orderId });
    expect(await payments().recordProviderEvent(op, event)).toMatchObject({ applied: false, orderId });
    expect(await payments().recordProviderEvent(op, { ...event, id: `evt_other_${orderId}`, idempotencyKey: 'someone_elses_key' })).toMatchObject({ applied: false, orderId: null });
    expect(await publishedFor(orderId)).toEqual(['SUCCEEDED']);
  });
});
