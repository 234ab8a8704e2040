import { describe, it, expect } from 'vitest';
import { parseOptions } from '@node-rs/argon2';
import { DUMMY_PASSWORD_HASH } from '../application/sign-in.ts';
import { Argon2PasswordHasher } from './argon2-password-hasher.ts';

const hasher = new Argon2PasswordHasher();
const ARGON2ID = 2;

describe('Argon2PasswordHasher', () => {
  it('hashes with argon2id, m=19456 KiB, t=2, p=1 (OWASP)', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(parseOptions(hash)).toMatchObject({ algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  });

  it('salts every hash', async () => {
    expect(await hasher.hash('same password')).not.toBe(await hasher.hash('same password'));
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(hash, 'correct horse battery stapler')).toBe(false);
  });

  it('has the same parameters as the dummy hash sign-in verifies against for unknown e-mails', async () => {
    const { saltLen: _a, ...real } = parseOptions(await hasher.hash('x'));
    const { saltLen: _b, ...dummy } = parseOptions(DUMMY_PASSWORD_HASH);
    expect(dummy).toEqual(real);
    expect(await hasher.verify(DUMMY_PASSWORD_HASH, 'password')).toBe(false);
  });
});
