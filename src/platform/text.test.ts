import { describe, expect, it } from 'vitest';
import { codePointsUpTo, textIssue } from './text.ts';

describe('textIssue', () => {
  const single = { maxLength: 5, minLength: 1 };
  const multi = { maxLength: 20, multiline: true };

  it.each([
    ['plain text', 'Alice', single],
    ['astral characters counted as one each', '😀😀😀😀😀', single],
    ['tabs and line breaks in multi-line text', 'one\ttwo\r\nthree', multi],
    ['an empty optional value', '', { maxLength: 5 }],
    ['non-Latin letters and combining marks', 'Zoë́', single],
  ])('accepts %s', (_what, value, rule) => {
    expect(textIssue(value, ['name'], rule)).toBeUndefined();
  });

  it.each([
    ['NUL', 'a\u0000b', single],
    ['NUL in multi-line text', 'a\u0000b', multi],
    ['ESC', 'a\u001bb', single],
    ['DEL', 'a\u007fb', single],
    ['a C1 control', 'a\u0085b', multi],
    ['a line break in single-line text', 'a\nb', single],
    ['a tab in single-line text', 'a\tb', single],
    ['vertical tab in multi-line text', 'a\u000bb', multi],
    ['an unpaired high surrogate', 'a\ud800b', single],
    ['an unpaired low surrogate', 'a\udc00', single],
  ])('refuses %s', (_what, value, rule) => {
    expect(textIssue(value, ['input', 'name'], rule)).toEqual({ path: ['input', 'name'], message: expect.stringContaining('control characters') });
  });

  it.each([
    ['one character too many', 'abcdef', single],
    ['only white space when a value is required', '   ', single],
    ['empty when a value is required', '', single],
    ['six astral characters', '😀😀😀😀😀😀', single],
  ])('refuses %s by its length', (_what, value, rule) => {
    expect(textIssue(value, ['name'], rule)).toEqual({ path: ['name'], message: 'must be 1–5 characters' });
  });

  it('names the bound alone when the value is optional', () => {
    expect(textIssue('x'.repeat(21), ['reason'], multi)).toEqual({ path: ['reason'], message: 'must be at most 20 characters' });
  });
});

describe('codePointsUpTo', () => {
  it.each([
    ['ascii', 'abc', 10, 3],
    ['astral', '😀😀', 10, 2],
    ['stops counting past the limit', 'x'.repeat(1_000), 10, 11],
    ['astral past the limit', '😀'.repeat(20), 10, 11],
    ['mixed near the limit', `${'😀'.repeat(5)}abcde`, 10, 10],
  ])('%s', (_what, value, limit, expected) => {
    expect(codePointsUpTo(value, limit)).toBe(expected);
  });
});
