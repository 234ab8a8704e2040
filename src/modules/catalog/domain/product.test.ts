import { describe, it, expect } from 'vitest';
import { adjustedStock, checkProductFields, PRODUCT_LIMITS, type ProductFields } from './product.ts';

const valid: Required<ProductFields> = { sku: 'WIDGET-1', name: 'Widget', description: 'A widget.', priceMinor: 1999, stock: 10 };
const pathsOf = (fields: ProductFields) => checkProductFields(fields).map((issue) => issue.path.join('.'));

describe('checkProductFields', () => {
  it('accepts a complete valid product and an empty field set', () => {
    expect(checkProductFields(valid)).toEqual([]);
    expect(checkProductFields({})).toEqual([]);
  });

  it.each<[string, string, boolean]>([
    ['two characters (the minimum)', 'AB', true],
    ['forty characters (the maximum)', 'A'.repeat(40), true],
    ['digits only', '0123', true],
    ['inner and trailing dashes', 'A-B-', true],
    ['one character', 'A', false],
    ['forty-one characters', 'A'.repeat(41), false],
    ['the empty string', '', false],
    ['lower-case letters', 'widget-1', false],
    ['mixed case', 'Widget-1', false],
    ['a leading dash', '-AB', false],
    ['a space', 'AB 1', false],
    ['an underscore', 'AB_1', false],
    ['a trailing newline', 'AB\n', false],
    ['a non-ASCII letter', 'ÄB', false],
  ])('sku with %s (%j) is valid: %s', (_label, sku, ok) => {
    expect(pathsOf({ sku })).toEqual(ok ? [] : ['sku']);
  });

  it.each<[string, string, boolean]>([
    ['one character', 'x', true],
    [`${PRODUCT_LIMITS.nameMaxLength} characters`, 'n'.repeat(PRODUCT_LIMITS.nameMaxLength), true],
    [`${PRODUCT_LIMITS.nameMaxLength + 1} characters`, 'n'.repeat(PRODUCT_LIMITS.nameMaxLength + 1), false],
    ['the empty string', '', false],
    ['only spaces', '   ', false],
    ['only tabs and newlines', '\t\n', false],
    ['surrounding spaces', '  Widget  ', true],
    ['a NUL character', 'Wid\u0000get', false],
    ['a line break inside', 'Wid\nget', false],
    ['an unpaired surrogate', 'Wid\ud800get', false],
  ])('name of %s is valid: %s', (_label, name, ok) => {
    expect(pathsOf({ name })).toEqual(ok ? [] : ['name']);
  });

  it.each<[string, string, boolean]>([
    ['the empty string', '', true],
    [`${PRODUCT_LIMITS.descriptionMaxLength} characters`, 'd'.repeat(PRODUCT_LIMITS.descriptionMaxLength), true],
    [`${PRODUCT_LIMITS.descriptionMaxLength + 1} characters`, 'd'.repeat(PRODUCT_LIMITS.descriptionMaxLength + 1), false],
    ['line breaks and tabs', 'one\n\ttwo\r\nthree', true],
    ['a NUL character', 'a\u0000b', false],
    ['an escape character', 'a\u001b[31mb', false],
  ])('description of %s is valid: %s', (_label, description, ok) => {
    expect(pathsOf({ description })).toEqual(ok ? [] : ['description']);
  });

  it.each<[string, number, boolean]>([
    ['1 (the minimum)', 1, true],
    ['the maximum', PRODUCT_LIMITS.maxPriceMinor, true],
    ['0', 0, false],
    ['negative', -1, false],
    ['one above the maximum', PRODUCT_LIMITS.maxPriceMinor + 1, false],
    ['not an integer', 19.99, false],
    ['NaN', Number.NaN, false],
    ['Infinity', Number.POSITIVE_INFINITY, false],
    ['beyond the safe integers', Number.MAX_SAFE_INTEGER + 1, false],
  ])('price of %s is valid: %s', (_label, priceMinor, ok) => {
    // The issue path is the API's field name, `price`, not the internal `priceMinor`.
    expect(pathsOf({ priceMinor })).toEqual(ok ? [] : ['price']);
  });

  it.each<[string, number, boolean]>([
    ['0', 0, true],
    ['the maximum', PRODUCT_LIMITS.maxStock, true],
    ['negative', -1, false],
    ['one above the maximum', PRODUCT_LIMITS.maxStock + 1, false],
    ['not an integer', 1.5, false],
    ['NaN', Number.NaN, false],
  ])('stock of %s is valid: %s', (_label, stock, ok) => {
    expect(pathsOf({ stock })).toEqual(ok ? [] : ['stock']);
  });

  it('lists every broken rule, each once, in field order', () => {
    const issues = checkProductFields({ sku: 'x', name: ' ', description: 'd'.repeat(2_001), priceMinor: 0, stock: -1 });
    expect(issues.map((issue) => issue.path)).toEqual([['sku'], ['name'], ['description'], ['price'], ['stock']]);
    expect(issues.every((issue) => issue.message.length > 0)).toBe(true);
  });

  it('checks only the fields that are present', () => {
    expect(pathsOf({ priceMinor: 0 })).toEqual(['price']);
    expect(pathsOf({ name: 'ok', stock: 3 })).toEqual([]);
  });
});

describe('adjustedStock', () => {
  it.each<[string, number, number, number | undefined]>([
    ['a delivery', 5, 3, 8],
    ['a write-off', 5, -3, 2],
    ['a write-off down to exactly zero', 5, -5, 0],
    ['a write-off below zero', 5, -6, undefined],
    ['any removal from zero', 0, -1, undefined],
    ['a delivery up to exactly the maximum', PRODUCT_LIMITS.maxStock - 1, 1, PRODUCT_LIMITS.maxStock],
    ['a delivery above the maximum', PRODUCT_LIMITS.maxStock, 1, undefined],
    ['a zero delta', 7, 0, 7],
    ['a fractional delta', 5, 0.5, undefined],
    ['a NaN delta', 5, Number.NaN, undefined],
    ['an infinite delta', 5, Number.NEGATIVE_INFINITY, undefined],
  ])('%s: %d + (%d) → %s', (_label, current, delta, expected) => {
    expect(adjustedStock(current, delta)).toBe(expected);
  });
});
