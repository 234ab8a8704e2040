import { describe, expect, it } from 'vitest';
import { ORDER_LIMITS, checkOrderRequest, checkReason, priceOrder, type RequestedLine } from './order.ts';

type PricingInput = { productId: string; quantity: number; unitPriceMinor: number };

const line = (productId: string, unitPriceMinor: number, quantity: number): PricingInput => ({ productId, quantity, unitPriceMinor });

describe('priceOrder', () => {
  // Every expected value below was worked out by hand; the comment shows the exact discount.
  it.each([
    { name: 'no discount', lines: [line('a', 1_999, 3)], percent: 0, subtotal: 5_997, discount: 0, total: 5_997 },
    { name: 'two lines, 10 % (551.3 → 551)', lines: [line('a', 1_999, 2), line('b', 505, 3)], percent: 10, subtotal: 5_513, discount: 551, total: 4_962 },
    { name: 'two lines, 20 % (1102.6 → 1103)', lines: [line('a', 1_999, 2), line('b', 505, 3)], percent: 20, subtotal: 5_513, discount: 1_103, total: 4_410 },
    { name: '10 % of 1005 (100.5 → 101, half-up)', lines: [line('a', 1_005, 1)], percent: 10, subtotal: 1_005, discount: 101, total: 904 },
    { name: '10 % of 1015 (101.5 → 102, half-up, not to even)', lines: [line('a', 1_015, 1)], percent: 10, subtotal: 1_015, discount: 102, total: 913 },
    { name: '10 % of 1025 (102.5 → 103, half-up, not to even)', lines: [line('a', 1_025, 1)], percent: 10, subtotal: 1_025, discount: 103, total: 922 },
    { name: '10 % of 1005 from 335 × 3 (100.5 → 101)', lines: [line('a', 335, 3)], percent: 10, subtotal: 1_005, discount: 101, total: 904 },
    { name: '10 % of 5 (0.5 → 1)', lines: [line('a', 5, 1)], percent: 10, subtotal: 5, discount: 1, total: 4 },
    { name: '10 % of 4 (0.4 → 0)', lines: [line('a', 4, 1)], percent: 10, subtotal: 4, discount: 0, total: 4 },
    { name: '10 % of 6 (0.6 → 1)', lines: [line('a', 3, 2)], percent: 10, subtotal: 6, discount: 1, total: 5 },
    { name: '10 % of 1004 (100.4 → 100)', lines: [line('a', 502, 2)], percent: 10, subtotal: 1_004, discount: 100, total: 904 },
    { name: '20 % of 1002 (200.4 → 200)', lines: [line('a', 1_002, 1)], percent: 20, subtotal: 1_002, discount: 200, total: 802 },
    { name: '20 % of 1003 (200.6 → 201)', lines: [line('a', 1_003, 1)], percent: 20, subtotal: 1_003, discount: 201, total: 802 },
    { name: '20 % of 3 (0.6 → 1)', lines: [line('a', 1, 3)], percent: 20, subtotal: 3, discount: 1, total: 2 },
    { name: '20 % of 2 (0.4 → 0)', lines: [line('a', 1, 2)], percent: 20, subtotal: 2, discount: 0, total: 2 },
    { name: '20 % exact (10000 → 2000)', lines: [line('a', 2_500, 4)], percent: 20, subtotal: 10_000, discount: 2_000, total: 8_000 },
    { name: 'zero subtotal', lines: [line('a', 0, 7)], percent: 20, subtotal: 0, discount: 0, total: 0 },
    {
      name: 'large amounts stay exact (50 lines × 999 999 × 1000, 20 %)',
      lines: Array.from({ length: 50 }, (_, i) => line(`p${i}`, 999_999, 1_000)),
      percent: 20,
      subtotal: 49_999_950_000,
      discount: 9_999_990_000,
      total: 39_999_960_000,
    },
  ])('$name', ({ lines, percent, subtotal, discount, total }) => {
    const totals = priceOrder(lines, percent);

    expect(totals).toMatchObject({ subtotalMinor: subtotal, discountPercent: percent, discountMinor: discount, totalMinor: total });
    expect(totals.totalMinor).toBe(totals.subtotalMinor - totals.discountMinor);
    expect(Number.isInteger(totals.discountMinor)).toBe(true);
  });

  it('prices every line at unit price × quantity and keeps the line order and fields', () => {
    const totals = priceOrder([line('b', 505, 3), line('a', 1_999, 2)], 10);

    expect(totals.lines).toEqual([
      { productId: 'b', quantity: 3, unitPriceMinor: 505, lineTotalMinor: 1_515 },
      { productId: 'a', quantity: 2, unitPriceMinor: 1_999, lineTotalMinor: 3_998 },
    ]);
  });

  it('does not round line totals: the discount applies to the whole subtotal', () => {
    // Per line 10 % would be 0.5 + 0.5 → 1 + 1 = 2; on the subtotal 10 it is exactly 1.
    const totals = priceOrder([line('a', 5, 1), line('b', 5, 1)], 10);

    expect(totals).toMatchObject({ subtotalMinor: 10, discountMinor: 1, totalMinor: 9 });
  });
});

const ok = (productId: string, quantity = 1): RequestedLine => ({ productId, quantity });
const manyLines = (n: number): RequestedLine[] => Array.from({ length: n }, (_, i) => ok(`p${i}`));

describe('checkOrderRequest', () => {
  it.each([
    { name: 'one valid line', lines: [ok('a')], key: 'k', paths: [] },
    { name: '0 lines', lines: [], key: 'k', paths: [['lines']] },
    { name: '50 lines (the maximum)', lines: manyLines(50), key: 'k', paths: [] },
    { name: '51 lines', lines: manyLines(51), key: 'k', paths: [['lines']] },
    { name: 'quantity 0', lines: [ok('a', 0)], key: 'k', paths: [['lines', '0', 'quantity']] },
    { name: 'quantity 1 (the minimum)', lines: [ok('a', 1)], key: 'k', paths: [] },
    { name: 'quantity 1000 (the maximum)', lines: [ok('a', 1_000)], key: 'k', paths: [] },
    { name: 'quantity 1001', lines: [ok('a', 1_001)], key: 'k', paths: [['lines', '0', 'quantity']] },
    { name: 'quantity 1.5', lines: [ok('a'), ok('b', 1.5)], key: 'k', paths: [['lines', '1', 'quantity']] },
    { name: 'quantity -1', lines: [ok('a', -1)], key: 'k', paths: [['lines', '0', 'quantity']] },
    { name: 'quantity NaN', lines: [ok('a', Number.NaN)], key: 'k', paths: [['lines', '0', 'quantity']] },
    { name: 'quantity Infinity', lines: [ok('a', Number.POSITIVE_INFINITY)], key: 'k', paths: [['lines', '0', 'quantity']] },
    { name: 'a product twice (the later line is flagged)', lines: [ok('a'), ok('b'), ok('a', 2)], key: 'k', paths: [['lines', '2', 'productId']] },
    { name: 'a product three times', lines: [ok('a'), ok('a'), ok('a')], key: 'k', paths: [['lines', '1', 'productId'], ['lines', '2', 'productId']] },
    { name: 'empty idempotency key', lines: [ok('a')], key: '', paths: [['idempotencyKey']] },
    { name: 'blank idempotency key', lines: [ok('a')], key: '   ', paths: [['idempotencyKey']] },
    { name: 'idempotency key of 1 character', lines: [ok('a')], key: 'x', paths: [] },
    { name: 'idempotency key of 255 characters', lines: [ok('a')], key: 'k'.repeat(255), paths: [] },
    { name: 'idempotency key of 256 characters', lines: [ok('a')], key: 'k'.repeat(256), paths: [['idempotencyKey']] },
    { name: 'idempotency key with a NUL character', lines: [ok('a')], key: 'key\u0000', paths: [['idempotencyKey']] },
    { name: 'idempotency key with a line break', lines: [ok('a')], key: 'key\n2', paths: [['idempotencyKey']] },
    {
      name: 'every broken rule at once, in input order',
      lines: [ok('a', 0), ok('a', 1.5), ok('b', 1_001)],
      key: '',
      paths: [['lines', '0', 'quantity'], ['lines', '1', 'quantity'], ['lines', '1', 'productId'], ['lines', '2', 'quantity'], ['idempotencyKey']],
    },
  ])('$name', ({ lines, key, paths }) => {
    const issues = checkOrderRequest(lines, key);

    expect(issues.map((issue) => issue.path)).toEqual(paths);
    for (const issue of issues) expect(issue.message).not.toBe('');
  });

  it('uses messages that state the limits', () => {
    const issues = checkOrderRequest([ok('a', 0), ok('a')], '');

    expect(issues).toEqual([
      { path: ['lines', '0', 'quantity'], message: `must be between ${ORDER_LIMITS.minQuantity} and ${ORDER_LIMITS.maxQuantity}` },
      { path: ['lines', '1', 'productId'], message: 'appears on more than one line; combine the quantities' },
      { path: ['idempotencyKey'], message: `must be 1–${ORDER_LIMITS.idempotencyKeyMaxLength} characters` },
    ]);
    expect(checkOrderRequest([], 'k')).toEqual([{ path: ['lines'], message: 'must have 1–50 lines' }]);
  });

  it('has the limits of issue #2', () => {
    expect(ORDER_LIMITS).toMatchObject({ minLines: 1, maxLines: 50, minQuantity: 1, maxQuantity: 1_000, idempotencyKeyMaxLength: 255 });
  });
});

describe('checkReason', () => {
  it.each([
    ['one line', 'customer asked', []],
    ['line breaks', 'first\nsecond\r\nthird', []],
    [`${ORDER_LIMITS.reasonMaxLength} characters`, 'r'.repeat(ORDER_LIMITS.reasonMaxLength), []],
    [`${ORDER_LIMITS.reasonMaxLength + 1} characters`, 'r'.repeat(ORDER_LIMITS.reasonMaxLength + 1), [['input', 'reason']]],
    ['a NUL character', 'wrong\u0000size', [['input', 'reason']]],
    ['an unpaired surrogate', 'wrong\udc00size', [['input', 'reason']]],
  ])('%s', (_what, reason, paths) => {
    expect(checkReason(reason).map((issue) => issue.path)).toEqual(paths);
  });
});
