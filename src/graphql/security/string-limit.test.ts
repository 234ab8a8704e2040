import { describe, expect, it } from 'vitest';
import { hasStringLiteralLongerThan, longStringPath } from './string-limit.ts';

describe('hasStringLiteralLongerThan (limit 10)', () => {
  it.each([
    ['a short document', '{ a }', false],
    ['a literal at the limit', '{ a(s: "0123456789") }', false],
    ['a literal one over', '{ a(s: "0123456789x") }', true],
    ['escapes counted as the character they stand for', '{ a(s: "\\u0041\\u0041\\u0041\\u0041\\u0041\\n\\t\\"\\\\x") }', false],
    ['a braced escape of an astral character as two units', `{ a(s: "${'\\u{1F600}'.repeat(6)}") }`, true],
    ['a long block string', '{ a(s: """01234567890""") }', true],
    ['a block string with an escaped triple quote', '{ a(s: """0\\"""12""") }', false],
    ['long text in a comment', '# 0123456789012345\n{ a(s: "ok") }', false],
    ['a quote inside a comment', '# "\n{ a(s: "0123456789") }', false],
    ['the second of two literals', '{ a(s: "short", t: "0123456789abc") }', true],
    ['an unterminated literal', '{ a(s: "0123456789abc', true],
    ['a long name, not a string', `{ ${'a'.repeat(50)} }`, false],
  ])('%s', (_what, source, expected) => {
    expect(hasStringLiteralLongerThan(source, 10)).toBe(expected);
  });
});

describe('longStringPath (limit 3)', () => {
  it.each([
    ['no variables', undefined, undefined],
    ['short values', { a: 'abc', b: [1, 'x', { c: null }] }, undefined],
    ['a long value', { a: 'abcd' }, '$.a'],
    ['a long value deep in a list', { in: { li: [{ id: 'ab' }, { id: 'abcd' }] } }, '$.in.li.1.id'],
    ['a long key', { abcd: 1 }, '$'],
  ])('%s', (_what, value, expected) => {
    expect(longStringPath(value, 3, '$')).toBe(expected);
  });

  it('walks nesting deeper than the call stack', () => {
    let value: unknown = 'abcd';
    for (let depth = 0; depth < 200_000; depth += 1) value = [value];
    expect(longStringPath(value, 3, '$')).toMatch(/^\$(\.0)+$/);
  });
});
