import { describe, expect, it } from 'vitest';
import { ORDER_STATUSES, ORDER_TRANSITIONS, PAYMENT_DRIVEN_STATUSES, availableTransitions, canTransition, type OrderStatus } from './status-machine.ts';

/** Issue #2, written out independently of ORDER_TRANSITIONS. */
const ALLOWED = new Set<string>(['PENDING→PAID', 'PENDING→PAYMENT_FAILED', 'PENDING→CANCELLED', 'PAID→SHIPPED', 'PAID→CANCELLED', 'SHIPPED→DELIVERED']);

const STATUSES: readonly OrderStatus[] = ['PENDING', 'PAID', 'PAYMENT_FAILED', 'SHIPPED', 'DELIVERED', 'CANCELLED'];

const everyPair = STATUSES.flatMap((from) => STATUSES.map((to) => ({ from, to, allowed: ALLOWED.has(`${from}→${to}`) })));

describe('order status machine', () => {
  it('has exactly the six statuses of issue #2', () => {
    expect([...ORDER_STATUSES].sort()).toEqual([...STATUSES].sort());
    expect(Object.keys(ORDER_TRANSITIONS).sort()).toEqual([...STATUSES].sort());
  });

  it('allows exactly the six moves of issue #2 among every (from, to) pair of its own statuses', () => {
    // Pairs drawn from what the machine exports, so a status or move added there is judged here too.
    const allowedByMachine = ORDER_STATUSES.flatMap((from) => ORDER_STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`));
    expect(allowedByMachine.sort()).toEqual([...ALLOWED].sort());
  });

  it.each(everyPair)('canTransition($from, $to) is $allowed', ({ from, to, allowed }) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it.each([
    { status: 'PENDING', next: ['PAID', 'PAYMENT_FAILED', 'CANCELLED'] },
    { status: 'PAID', next: ['SHIPPED', 'CANCELLED'] },
    { status: 'PAYMENT_FAILED', next: [] },
    { status: 'SHIPPED', next: ['DELIVERED'] },
    { status: 'DELIVERED', next: [] },
    { status: 'CANCELLED', next: [] },
  ] satisfies { status: OrderStatus; next: OrderStatus[] }[])('availableTransitions($status) is $next', ({ status, next }) => {
    expect([...availableTransitions(status)].sort()).toEqual([...next].sort());
  });

  it.each(STATUSES)('availableTransitions(%s) agrees with canTransition', (from) => {
    expect([...availableTransitions(from)].sort()).toEqual(STATUSES.filter((to) => canTransition(from, to)).sort());
  });

  it('no status may move to itself', () => {
    expect(STATUSES.filter((s) => canTransition(s, s))).toEqual([]);
  });

  it('PAID and PAYMENT_FAILED are the payment-driven statuses', () => {
    expect([...PAYMENT_DRIVEN_STATUSES].sort()).toEqual(['PAID', 'PAYMENT_FAILED']);
  });
});
