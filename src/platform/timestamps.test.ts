import { describe, expect, it } from 'vitest';
import { isStorableInstant, parseIsoInstant } from './timestamps.ts';

describe('parseIsoInstant', () => {
  it.each(['2026-01-02T03:04:05.678Z', '0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z'])('reads %s', (text) => {
    expect(parseIsoInstant(text)?.toISOString()).toBe(text);
  });

  it.each([
    ['a bare number V8 reads as 2001', '1'],
    ['a bare number V8 reads as 2000', '0'],
    ["V8's earliest instant", '-271821-04-20T00:00:00.000Z'],
    ["V8's latest instant", '+275760-09-13T00:00:00.000Z'],
    ['year 0, which PostgreSQL does not have', '0000-01-01T00:00:00.000Z'],
    ['an RFC 2822 date', 'Tue, 01 Jan 2030 00:00:00 GMT'],
    ['a date without a time', '2030-01-01'],
    ['an offset other than Z', '2030-01-01T00:00:00.000+01:00'],
    ['an impossible day', '2030-02-30T00:00:00.000Z'],
    ['a trailing NUL', '2030-01-01T00:00:00.000Z\u0000'],
  ])('refuses %s', (_what, text) => {
    expect(parseIsoInstant(text)).toBeUndefined();
  });
});

describe('isStorableInstant', () => {
  it.each([
    ['year 1', new Date('0001-01-01T00:00:00.000Z'), true],
    ['now', new Date(), true],
    ['year 0', new Date('0000-06-01T00:00:00.000Z'), false],
    ['year 10000', new Date('+010000-01-01T00:00:00.000Z'), false],
    ['an invalid date', new Date(Number.NaN), false],
  ])('%s: %s', (_what, date, expected) => {
    expect(isStorableInstant(date)).toBe(expected);
  });
});
