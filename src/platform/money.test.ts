import { describe, expect, it } from 'vitest';
import { currencyExponent, formatMinor, parseMinor, percentOfMinor } from './money.ts';

describe('money', () => {
  it.each([
    [1999, 'USD', '19.99'],
    [5, 'USD', '0.05'],
    [-5, 'USD', '-0.05'],
    [0, 'USD', '0.00'],
    [100, 'USD', '1.00'],
    [-100_050, 'EUR', '-1000.50'],
    [1999, 'JPY', '1999'],
    [-7, 'JPY', '-7'],
    [1234, 'KWD', '1.234'],
    [Number.MAX_SAFE_INTEGER, 'USD', '90071992547409.91'],
    [Number.MAX_SAFE_INTEGER - 90, 'USD', '90071992547409.01'],
  ])('formats %i %s as %s', (minor, currency, text) => {
    expect(formatMinor(minor, currency)).toBe(text);
  });

  it.each([
    ['19.99', 'USD', 1999],
    ['5', 'USD', 500],
    ['0.5', 'USD', 50],
    [' 1.00 ', 'USD', 100],
    ['1.234', 'KWD', 1234],
    ['1999', 'JPY', 1999],
    ['1.999', 'USD', undefined],
    ['-1.00', 'USD', undefined],
    ['1e3', 'USD', undefined],
    ['1.5', 'JPY', undefined],
    ['9999999999999999', 'USD', undefined],
  ])('parses %j %s as %s', (text, currency, minor) => {
    expect(parseMinor(text, currency)).toBe(minor);
  });

  it('round-trips every formatted amount', () => {
    for (const minor of [0, 1, 9, 10, 99, 100, 101, 123_456, 10_000_000_001]) expect(parseMinor(formatMinor(minor, 'USD'), 'USD')).toBe(minor);
  });

  it.each([
    [1000, 10, 100],
    [1005, 10, 101], // 100.5 rounds half up
    [1004, 10, 100],
    [999, 20, 200], // 199.8
    [0, 20, 0],
    [1999, 0, 0],
  ])('takes %i × %i %% = %i (half-up)', (minor, percent, part) => {
    expect(percentOfMinor(minor, percent)).toBe(part);
  });

  it('knows the ISO 4217 exponents through Intl', () => {
    expect([currencyExponent('USD'), currencyExponent('JPY'), currencyExponent('KWD')]).toEqual([2, 0, 3]);
    expect(() => currencyExponent('XYZ1')).toThrow(RangeError);
  });
});
