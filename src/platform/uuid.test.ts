import { describe, expect, it } from 'vitest';
import { isLowerCaseUuid, isUuid } from './uuid.ts';

const id = '0b4f7a52-9a7e-4c1e-8f4b-2f6f0b9e1a11';

describe('UUID checks', () => {
  it.each(['', 'not-a-uuid', id.slice(1), `${id}0`, ` ${id}`, id.replaceAll('-', ''), `{${id}}`, id.replace('0b', 'zz')])('neither accepts %j', (value) => {
    expect(isUuid(value)).toBe(false);
    expect(isLowerCaseUuid(value)).toBe(false);
  });

  it('isUuid accepts the 8-4-4-4-12 form in either case, as PostgreSQL does', () => {
    expect(isUuid(id)).toBe(true);
    expect(isUuid(id.toUpperCase())).toBe(true);
  });

  it('isLowerCaseUuid accepts only the lower case this service writes', () => {
    expect(isLowerCaseUuid(id)).toBe(true);
    expect(isLowerCaseUuid(crypto.randomUUID())).toBe(true);
    expect(isLowerCaseUuid(id.toUpperCase())).toBe(false);
  });
});
