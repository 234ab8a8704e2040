// DIAGNOSTIC_DISABLE: the benchmark's switch for the three controls that have no configuration of
// their own (CSRF prevention, armor's document limits, error masking), so that `npm run bench`'s
// ablation can measure what each costs (issue 11). Never for production; the README says so.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { postGraphQL, send } from './support.ts';

describe('DIAGNOSTIC_DISABLE configuration', () => {
  it('is empty by default, in production too', () => {
    expect(loadConfig({}).diagnostics.disabled.size).toBe(0);
    expect(loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/og', JWT_PRIVATE_KEY: 'pem' }).diagnostics.disabled.size).toBe(0);
  });

  it('reads a comma-separated list of csrf, armor and masking', () => {
    expect([...loadConfig({ DIAGNOSTIC_DISABLE: 'csrf, masking' }).diagnostics.disabled].sort()).toEqual(['csrf', 'masking']);
    expect([...loadConfig({ DIAGNOSTIC_DISABLE: 'armor' }).diagnostics.disabled]).toEqual(['armor']);
  });

  it('refuses anything else, naming the variable', () => {
    expect(() => loadConfig({ DIAGNOSTIC_DISABLE: 'csrf,rate-limits' })).toThrow(/DIAGNOSTIC_DISABLE/);
  });
});

describe('with DIAGNOSTIC_DISABLE=csrf,armor,masking', () => {
  let app: TestApp;
  const lines: string[] = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    app = await startTestApp({ env: { DIAGNOSTIC_DISABLE: 'csrf,armor,masking' }, app: { logger: createLogger('warn', sink) } });
  });
  afterAll(() => app?.stop());

  it('says at start, as a warning, which controls are off', () => {
    const warning = lines.map((line) => JSON.parse(line) as { level: number; msg: string; disabled?: string[] }).find((line) => line.msg.includes('DIAGNOSTIC_DISABLE'));
    expect(warning).toMatchObject({ level: 40, disabled: ['csrf', 'armor', 'masking'] });
  });

  it('runs a GET query without a preflight header (CSRF prevention off)', async () => {
    const reply = await send(`${app.running.url}?query=${encodeURIComponent('{ products(first: 1) { totalCount } }')}`, {});
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text).data.products.totalCount).toBe(20);
  });

  it('runs a document over the token limit (armor off)', async () => {
    const reply = await postGraphQL(app.running.url, { query: `{ products(first: 1) { ${'totalCount '.repeat(600)}} }` });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text).data.products.totalCount).toBe(20);
  });

  it('shows an unexpected failure unmasked (masking off)', async () => {
    const orm = await app.db.openOrm();
    await orm.em.getConnection().execute('alter table "catalog_products" rename to "catalog_products_hidden"');
    try {
      // A document no earlier test ran: the table is renamed under the app, which no committed
      // change tells the response cache, so an answer cached before would hide the failure.
      const reply = await postGraphQL(app.running.url, { query: '{ unmasked: products(first: 1) { totalCount } }' });
      const errors = (JSON.parse(reply.text) as { errors: { message: string }[] }).errors;
      expect(errors[0]!.message).not.toBe('Unexpected error.');
      expect(errors[0]!.message).toContain('catalog_products');
    } finally {
      await orm.em.getConnection().execute('alter table "catalog_products_hidden" rename to "catalog_products"');
      await orm.close();
    }
  });
});
