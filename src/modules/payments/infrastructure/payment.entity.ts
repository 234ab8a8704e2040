import { defineEntity, p } from '@mikro-orm/postgresql';
import { PAYMENT_STATUSES } from '../domain/payment.ts';

/** Row shape of `payments` (see src/migrations). */
export const PaymentRecord = defineEntity({
  name: 'PaymentRecord',
  tableName: 'payments',
  properties: {
    id: p.uuid().primary(),
    orderId: p.uuid().unique(),
    idempotencyKey: p.text().unique(),
    amountMinor: p.bigint('number'),
    currency: p.text(),
    status: p.enum(PAYMENT_STATUSES),
    providerChargeId: p.text().nullable(),
    providerRefundId: p.text().nullable(),
    declineCode: p.text().nullable(),
    declineMessage: p.text().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
    refundedAt: p.datetime().nullable(),
    attemptCount: p.integer(),
    lastAttemptAt: p.datetime().nullable(),
    lastError: p.text().nullable(),
    refundRequestedAt: p.datetime().nullable(),
  },
});

/** Row shape of `payment_provider_events` (webhook deduplication). */
export const ProviderEventRecord = defineEntity({
  name: 'ProviderEventRecord',
  tableName: 'payment_provider_events',
  properties: {
    eventId: p.text().primary(),
    type: p.text(),
    orderId: p.uuid().nullable(),
    receivedAt: p.datetime(),
  },
});
