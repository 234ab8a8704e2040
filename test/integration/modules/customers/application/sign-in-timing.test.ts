import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignIn } from '../../../../../src/modules/customers/application/sign-in.ts';
import { FakeTokenIssuer, InMemoryCustomerRepository, ops } from '../../../../fakes/customers.ts';
import { Argon2PasswordHasher } from '../../../../../src/modules/customers/infrastructure/argon2-password-hasher.ts';
import { startTestApp, type TestApp } from '../../../../support/app.ts';
import { median, postGraphQL } from '../../../../security/support.ts';

/**
 * Measured (vitest project `measured`, run alone after the other projects).
 *
 * An unknown e-mail and a wrong password get the same answer in about the same time, so neither
 * tells which addresses have accounts. Timing is compared by medians of interleaved samples with a
 * generous bound (a factor of 2 either way, 3 over HTTP). In the use case the argon2id verification is nearly
 * all the time (~8 ms here), so a shortcut for unknown e-mails would show as a factor of 10 or
 * more; over HTTP the request's own cost dilutes it, and the check is that nothing else differs.
 *
 * Thresholds: median(unknown e-mail) / median(wrong password) over 21 ABBA-interleaved pairs must
 * lie in (1/2, 2) in the use case with the real argon2id hasher, and in (1/3, 3) over HTTP.
 */

const SAMPLES = 21;

async function timed(run: () => Promise<unknown>): Promise<{ ms: number; value: unknown }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

/** Interleaves the two kinds of attempt (ABBA) so that load changes and order effects hit both alike. */
async function compare(unknownEmail: () => Promise<unknown>, wrongPassword: () => Promise<unknown>) {
  await unknownEmail();
  await wrongPassword();
  const unknown: number[] = [];
  const wrong: number[] = [];
  const answers = new Set<string>();
  for (let i = 0; i < SAMPLES; i++) {
    let a: Awaited<ReturnType<typeof timed>>;
    let b: Awaited<ReturnType<typeof timed>>;
    if (i % 2 === 0) {
      a = await timed(unknownEmail);
      b = await timed(wrongPassword);
    } else {
      b = await timed(wrongPassword);
      a = await timed(unknownEmail);
    }
    unknown.push(a.ms);
    wrong.push(b.ms);
    answers.add(JSON.stringify(a.value));
    answers.add(JSON.stringify(b.value));
  }
  return { ratio: median(unknown) / median(wrong), unknown: median(unknown), wrong: median(wrong), answers };
}

describe('sign-in: unknown e-mail vs wrong password', () => {
  it('in the use case with the real argon2id hasher: same error, medians within a factor of 2', async () => {
    const customers = new InMemoryCustomerRepository();
    const passwords = new Argon2PasswordHasher();
    customers.seed({ email: 'ada@example.com' }, 'placeholder');
    // Replace the fake hash with a real one so the wrong password is checked by argon2id.
    const [row] = [...customers.rows.values()];
    customers.rows.set(row!.customer.id, { ...row!, passwordHash: await passwords.hash('correct horse battery') });
    const signIn = createSignIn({ customers, passwords, tokens: new FakeTokenIssuer() });
    const outcome = async (email: string) => {
      const result = await signIn(ops.anonymous(), { email, password: 'wrong horse battery' });
      return result.ok ? 'signed in' : { code: result.error.code, message: result.error.message };
    };
    const { ratio, unknown, wrong, answers } = await compare(() => outcome('nobody@example.com'), () => outcome('ada@example.com'));
    console.info(`use case: unknown e-mail ${unknown.toFixed(1)} ms, wrong password ${wrong.toFixed(1)} ms (median of ${SAMPLES}), ratio ${ratio.toFixed(2)}`);
    expect([...answers]).toEqual([JSON.stringify({ code: 'INVALID_CREDENTIALS', message: 'The e-mail or password is incorrect' })]);
    expect(ratio).toBeGreaterThan(1 / 2);
    expect(ratio).toBeLessThan(2);
  });

  describe('over HTTP, as an attacker sees it', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp();
    });
    afterAll(() => app?.stop());

    // A wider bound than the use case's: a 2-core machine running other test files at the same
    // time adds more noise to a whole request than to one hash verification.
    it('gives byte-identical answers with medians within a factor of 3', async () => {
      const attempt = async (email: string) => {
        const reply = await postGraphQL(app.running.url, {
          query: 'mutation($input: SignInInput!) { signIn(input: $input) { __typename ... on Error { code message } } }',
          variables: { input: { email, password: 'wrong horse battery' } },
        });
        return [reply.status, reply.text];
      };
      const { ratio, unknown, wrong, answers } = await compare(() => attempt('nobody@ordergraph.dev'), () => attempt('basic@ordergraph.dev'));
      console.info(`HTTP: unknown e-mail ${unknown.toFixed(1)} ms, wrong password ${wrong.toFixed(1)} ms (median of ${SAMPLES}), ratio ${ratio.toFixed(2)}`);
      expect(answers.size).toBe(1);
      expect([...answers][0]).toContain('INVALID_CREDENTIALS');
      expect(ratio).toBeGreaterThan(1 / 3);
      expect(ratio).toBeLessThan(3);
    });
  });
});
