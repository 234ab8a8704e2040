import { describe, expect, it } from 'vitest';
import { canTransition, chargeIdempotencyKey, orderIdOfChargeKey, PAYMENT_STATUSES, PaymentDeclinedError, refundIdempotencyKey, type PaymentStatus } from './payment.ts';

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

  it('reads the order id back out of a charge key, and out of nothing else', () => {
    const orderId = '0b4f7a52-9a7e-4c1e-8f4b-2f6f0b9e1a11';
    expect(orderIdOfChargeKey(chargeIdempotencyKey(orderId))).toBe(orderId);
    for (const key of [
      refundIdempotencyKey(orderId),
      `order_${orderId}_charge_again`,
      `x_order_${orderId}_charge`,
      'order_not-an-order-id_charge',
      `order_${orderId.slice(1)}_charge`,
      // Order ids are written in lower case; a key in upper case was not made by this service.
      `order_${orderId.toUpperCase()}_charge`,
    ]) {
      expect(orderIdOfChargeKey(key), key).toBeUndefined();
    }
  });
});

describe('PaymentDeclinedError', () => {
  it('carries the PAYMENT_DECLINED code, the order and the provider reason', () => {
    const error = new PaymentDeclinedError('o-1', 'insufficient_funds', 'No funds');
    expect(error).toMatchObject({ code: 'PAYMENT_DECLINED', orderId: 'o-1', declineCode: 'insufficient_funds', message: 'No funds' });
  });
});
