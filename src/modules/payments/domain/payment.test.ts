import { describe, expect, it } from 'vitest';
import { canTransition, chargeIdempotencyKey, PAYMENT_STATUSES, PaymentDeclinedError, refundIdempotencyKey, type PaymentStatus } from './payment.ts';

describe('canTransition', () => {
  const legal = new Set(['PENDING→SUCCEEDED', 'PENDING→DECLINED', 'PENDING→VOIDED', 'SUCCEEDED→REFUNDED', 'VOIDED→REFUNDED']);
  const cases = PAYMENT_STATUSES.flatMap((from) =>
    PAYMENT_STATUSES.map((to): [PaymentStatus, PaymentStatus, boolean] => [from, to, legal.has(`${from}→${to}`)]),
  );

  it.each(cases)('%s → %s is %s', (from, to, expected) => {
    expect(canTransition(from, to)).toBe(expected);
  });
});

describe('idempotency keys', () => {
  it('derives the charge and refund keys from the order id, distinct from each other', () => {
    const orderId = '0b4f7a52-9a7e-4c1e-8f4b-2f6f0b9e1a11';
    expect(chargeIdempotencyKey(orderId)).toBe(`order_${orderId}_charge`);
    expect(refundIdempotencyKey(orderId)).toBe(`order_${orderId}_refund`);
  });
});

describe('PaymentDeclinedError', () => {
  it('carries the PAYMENT_DECLINED code, the order and the provider reason', () => {
    const error = new PaymentDeclinedError('o-1', 'insufficient_funds', 'No funds');
    expect(error).toMatchObject({ code: 'PAYMENT_DECLINED', orderId: 'o-1', declineCode: 'insufficient_funds', message: 'No funds' });
  });
});
