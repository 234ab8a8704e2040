import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('gives a working development setup with no variables at all', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      http: { host: '127.0.0.1', port: 4000, graphiql: true, jit: true },
      database: { url: undefined, migrateOnStart: true },
      seedDemoData: true,
      currency: 'USD',
      payments: { provider: 'simulated', timeoutMs: 5000 },
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL'],
    [{ STORE_CURRENCY: 'usd' }, 'STORE_CURRENCY'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ SEED_DEMO_DATA: 'maybe' }, 'SEED_DEMO_DATA'],
    [{ GRAPHQL_JIT: 'sometimes' }, 'GRAPHQL_JIT'],
    [{ PAYMENT_SIMULATED_DECLINE_ABOVE: '1,000' }, 'PAYMENT_SIMULATED_DECLINE_ABOVE'],
  ])('rejects %o naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as ConfigError).problems.some((p) => p.startsWith(variable))).toBe(true);
    }
  });

  it('names every problem at once, and in production demands a database and a signing key and refuses demo data', () => {
    try {
      loadConfig({ NODE_ENV: 'production', PORT: '-1', SEED_DEMO_DATA: 'true' });
      expect.unreachable();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toContain('PORT');
      expect(problems).toContain('DATABASE_URL');
      expect(problems).toContain('JWT_PRIVATE_KEY');
      expect(problems).toContain('SEED_DEMO_DATA');
    }
  });

  it('turns development conveniences off in production', () => {
    const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db:5432/og', JWT_PRIVATE_KEY: 'pem' });
    expect(config.http.graphiql).toBe(false);
    expect(config.seedDemoData).toBe(false);
    expect(config.database.migrateOnStart).toBe(false);
  });
});
