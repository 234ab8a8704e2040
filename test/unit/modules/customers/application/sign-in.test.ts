import { describe, it, expect } from 'vitest';
import { DUMMY_PASSWORD_HASH, InvalidCredentialsError, RateLimitedError, createSignIn } from '../../../../../src/modules/customers/application/sign-in.ts';
import { FakePasswordHasher, FakeTokenIssuer, InMemoryCustomerRepository, ops } from '../../../../fakes/customers.ts';

const setup = () => {
  const customers = new InMemoryCustomerRepository();
  const passwords = new FakePasswordHasher();
  const signIn = createSignIn({ customers, passwords, tokens: new FakeTokenIssuer() });
  const ada = customers.seed({ email: 'ada@example.com', role: 'ADMIN', tier: 'PREMIUM' }, 'correct horse');
  return { customers, passwords, signIn, ada };
};

describe('signIn', () => {
  it('issues a token carrying the account role for the right password, whatever the e-mail case', async () => {
    const { signIn, ada } = setup();
    const result = await signIn(ops.anonymous(), { email: ' ADA@example.com ', password: 'correct horse' });
    expect(result).toEqual({ ok: true, value: { customer: ada, accessToken: `token:${ada.id}:ADMIN`, expiresAt: expect.any(Date) } });
  });

  it('gives the same code and message for an unknown e-mail and a wrong password', async () => {
    const { signIn } = setup();
    const unknown = await signIn(ops.anonymous(), { email: 'nobody@example.com', password: 'correct horse' });
    const wrong = await signIn(ops.anonymous(), { email: 'ada@example.com', password: 'wrong horse' });
    expect(unknown.ok || wrong.ok).toBe(false);
    if (unknown.ok || wrong.ok) return;
    expect(unknown.error).toBeInstanceOf(InvalidCredentialsError);
    expect(wrong.error).toBeInstanceOf(InvalidCredentialsError);
    expect(unknown.error.code).toBe('INVALID_CREDENTIALS');
    expect([unknown.error.code, unknown.error.message]).toEqual([wrong.error.code, wrong.error.message]);
  });

  it('still verifies a password (against the dummy hash) when the e-mail is unknown', async () => {
    const { signIn, passwords } = setup();
    await signIn(ops.anonymous(), { email: 'nobody@example.com', password: 'guess one' });
    expect(passwords.verified).toEqual([{ hash: DUMMY_PASSWORD_HASH, password: 'guess one' }]);
  });

  it('verifies against the stored hash for a known e-mail', async () => {
    const { signIn, passwords } = setup();
    await signIn(ops.anonymous(), { email: 'ada@example.com', password: 'wrong horse' });
    expect(passwords.verified).toEqual([{ hash: FakePasswordHasher.hashOf('correct horse'), password: 'wrong horse' }]);
  });

  it('matches a password typed in another Unicode normalization form', async () => {
    const { customers, signIn } = setup();
    customers.seed({ email: 'zoe@example.com' }, 'caf\u00e9 au lait');
    const result = await signIn(ops.anonymous(), { email: 'zoe@example.com', password: 'cafe\u0301 au lait' });
    expect(result.ok).toBe(true);
  });

  it.each([
    ['an empty e-mail', { email: '  ', password: 'correct horse' }, ['email']],
    ['an empty password', { email: 'ada@example.com', password: '' }, ['password']],
    ['an over-long password', { email: 'ada@example.com', password: 'x'.repeat(129) }, ['password']],
    // No account can hold these, so the answer depends on the input alone, never on the accounts.
    ['a NUL character in the e-mail', { email: 'ada@example.com\u0000', password: 'correct horse' }, ['email']],
    ['an unpaired surrogate in the e-mail', { email: 'ada\ud800@example.com', password: 'correct horse' }, ['email']],
    ['a NUL character in the password', { email: 'ada@example.com', password: 'correct\u0000horse' }, ['password']],
  ])('refuses %s before any hashing', async (_label, input, path) => {
    const { signIn, passwords } = setup();
    const result = await signIn(ops.anonymous(), input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('VALIDATION_FAILED');
    expect('issues' in result.error && result.error.issues.map((issue) => issue.path)).toEqual([path]);
    expect(passwords.verified).toEqual([]);
  });
});

describe('signIn with a throttle', () => {
  it('counts each attempt and, once the caller is out of attempts, answers RATE_LIMITED before any lookup or hashing', async () => {
    const customers = new InMemoryCustomerRepository();
    const passwords = new FakePasswordHasher();
    let left = 2;
    const throttle = async () => (left-- > 0 ? undefined : { retryAfterSeconds: 41.2 });
    const signIn = createSignIn({ customers, passwords, tokens: new FakeTokenIssuer(), throttle });
    customers.seed({ email: 'ada@example.com' }, 'correct horse');
    expect((await signIn(ops.anonymous(), { email: 'ada@example.com', password: 'wrong horse' })).ok).toBe(false);
    expect((await signIn(ops.anonymous(), { email: 'ada@example.com', password: 'correct horse' })).ok).toBe(true);
    const limited = await signIn(ops.anonymous(), { email: 'ada@example.com', password: 'correct horse' });
    expect(limited.ok).toBe(false);
    if (limited.ok) return;
    expect(limited.error).toBeInstanceOf(RateLimitedError);
    expect(limited.error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 42 });
    expect(passwords.verified).toHaveLength(2);
  });

  it('does not count input refused before any work', async () => {
    let taken = 0;
    const signIn = createSignIn({ customers: new InMemoryCustomerRepository(), passwords: new FakePasswordHasher(), tokens: new FakeTokenIssuer(), throttle: async () => void taken++ });
    await signIn(ops.anonymous(), { email: '', password: '' });
    expect(taken).toBe(0);
  });
});
