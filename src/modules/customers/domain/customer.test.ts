import { describe, it, expect } from 'vitest';
import {
  CUSTOMER_TIERS,
  checkEmail,
  checkName,
  checkNewAccount,
  checkPassword,
  discountPercentOf,
  isCustomerTier,
  normalizeEmail,
  normalizePassword,
  type CustomerTier,
} from './customer.ts';

describe('tier discounts', () => {
  it.each<[CustomerTier, number]>([
    ['BASIC', 0],
    ['PREMIUM', 10],
    ['ENTERPRISE', 20],
  ])('%s gets %i %%', (tier, percent) => {
    expect(discountPercentOf(tier)).toBe(percent);
  });

  it('covers every tier', () => {
    expect(CUSTOMER_TIERS.map(discountPercentOf)).toEqual([0, 10, 20]);
  });

  it.each([
    ['PREMIUM', true],
    ['premium', false],
    ['GOLD', false],
    ['', false],
  ])('isCustomerTier(%j) is %s', (value, expected) => {
    expect(isCustomerTier(value)).toBe(expected);
  });
});

describe('email rule', () => {
  const local64 = 'a'.repeat(64);
  // 64 + 1 + 189 = 254 characters in all.
  const at254 = `${local64}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
  const at255 = `${local64}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(58)}.com`;

  it.each([
    ['ada@example.com'],
    ['  Ada.Lovelace+orders@Example.COM  '],
    ["o'brien@mail.example.co.uk"],
    ['x@xn--p1ai.xn--p1ai'],
    [`${local64}@example.com`],
    [at254],
  ])('accepts %j', (email) => {
    expect(checkEmail(email)).toEqual([]);
  });

  it.each([
    [''],
    ['   '],
    ['ada'],
    ['ada@'],
    ['@example.com'],
    ['ada@localhost'],
    ['ada@@example.com'],
    ['ada lovelace@example.com'],
    ['ada@exa mple.com'],
    ['ada@-example.com'],
    ['ada@example-.com'],
    ['ada@example..com'],
    ['<ada@example.com>'],
    [`${local64}a@example.com`],
    [at255],
  ])('rejects %j', (email) => {
    expect(checkEmail(email)).toEqual([{ path: ['email'], message: expect.stringContaining('e-mail address') }]);
  });

  it.each([
    ['  Ada@Example.COM ', 'ada@example.com'],
    ['bob@example.com', 'bob@example.com'],
  ])('normalizes %j to %j', (raw, normalized) => {
    expect(normalizeEmail(raw)).toBe(normalized);
  });
});

describe('password rule (length, no control characters; NIST SP 800-63B)', () => {
  it.each([
    ['8 characters', '12345678'],
    ['all lower-case letters', 'abcdefghij'],
    ['spaces', 'correct horse battery staple'],
    ['128 characters', 'x'.repeat(128)],
    ['8 emoji (16 UTF-16 units)', '🔑'.repeat(8)],
    ['128 emoji (counted as code points)', '🔑'.repeat(128)],
  ])('accepts %s', (_label, password) => {
    expect(checkPassword(password)).toEqual([]);
  });

  it.each([
    ['empty', ''],
    ['7 characters', '1234567'],
    ['129 characters', 'x'.repeat(129)],
    ['7 emoji', '🔑'.repeat(7)],
  ])('rejects %s', (_label, password) => {
    expect(checkPassword(password)).toEqual([{ path: ['password'], message: 'must be 8–128 characters' }]);
  });

  it.each([
    ['a NUL character', 'pass\u0000word'],
    ['a tab (not typeable in a password field)', 'pass\tword'],
    ['an unpaired surrogate (it would hash as U+FFFD)', 'pass\ud800word'],
  ])('rejects %s', (_label, password) => {
    expect(checkPassword(password)).toEqual([{ path: ['password'], message: expect.stringContaining('control characters') }]);
  });

  it('hashes composed and decomposed accents alike', () => {
    expect(normalizePassword('caf\u00e9 crème')).toBe(normalizePassword('cafe\u0301 cre\u0300me'));
  });
});

describe('name rule', () => {
  it.each([['A'], ['Ada Lovelace'], ['  padded  '], ['n'.repeat(100)], ['名前']])('accepts %j', (name) => {
    expect(checkName(name)).toEqual([]);
  });

  it.each([[''], ['   '], ['n'.repeat(101)]])('rejects %j', (name) => {
    expect(checkName(name)).toEqual([{ path: ['name'], message: 'must be 1–100 characters' }]);
  });

  it.each([['Ada\u0000'], ['Ada\nLovelace'], ['\u001b[2JAda']])('rejects the control characters of %j', (name) => {
    expect(checkName(name)).toEqual([{ path: ['name'], message: expect.stringContaining('control characters') }]);
  });
});

describe('checkNewAccount', () => {
  it('reports every broken field at once', () => {
    expect(checkNewAccount({ email: 'nope', password: 'short', name: ' ' }).map((issue) => issue.path)).toEqual([['email'], ['password'], ['name']]);
  });

  it('is empty for a valid account', () => {
    expect(checkNewAccount({ email: 'ada@example.com', password: 'long enough', name: 'Ada' })).toEqual([]);
  });
});
