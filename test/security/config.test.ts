import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

/** The security settings read from the environment (README "Configuration"). */
describe('security configuration', () => {
  it('defaults by environment: production closes introspection, suggestions and limit details', () => {
    const production = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/ordergraph', JWT_PRIVATE_KEY: 'pem' }).security;
    expect(production).toMatchObject({ introspection: false, fieldSuggestions: false, exposeLimits: false, maxBodyBytes: 65_536, trustProxyHops: 0 });
    expect(production.rateLimits).toBeDefined();
    expect(loadConfig({ NODE_ENV: 'development' }).security).toMatchObject({ introspection: true, fieldSuggestions: true, exposeLimits: true });
    expect(loadConfig({ NODE_ENV: 'test' }).security).toMatchObject({ introspection: true, fieldSuggestions: false, exposeLimits: true, rateLimits: undefined });
  });

  it('opens introspection in production only when asked', () => {
    expect(loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/x', JWT_PRIVATE_KEY: 'pem', INTROSPECTION: 'true' }).security.introspection).toBe(true);
  });

  it('reads the external identity provider only as a whole', () => {
    expect(() => loadConfig({ JWT_JWKS_URL: 'https://id.example.com/jwks.json' })).toThrow(/JWT_JWKS_ISSUER and JWT_JWKS_AUDIENCE are required/);
    expect(() => loadConfig({ JWT_JWKS_URL: 'ftp://id.example.com/jwks.json', JWT_JWKS_ISSUER: 'i', JWT_JWKS_AUDIENCE: 'a' })).toThrow(/JWT_JWKS_URL/);
    const { external } = loadConfig({ JWT_JWKS_URL: 'https://id.example.com/jwks.json', JWT_JWKS_ISSUER: 'https://id.example.com/', JWT_JWKS_AUDIENCE: 'api' }).auth;
    expect(external).toEqual({ jwksUrl: 'https://id.example.com/jwks.json', issuer: 'https://id.example.com/', audience: 'api' });
  });

  it('bounds the body cap and the proxy hops', () => {
    expect(() => loadConfig({ MAX_BODY_BYTES: '100' })).toThrow(/MAX_BODY_BYTES/);
    expect(() => loadConfig({ TRUST_PROXY_HOPS: '-1' })).toThrow(/TRUST_PROXY_HOPS/);
    expect(loadConfig({ MAX_BODY_BYTES: '32768', TRUST_PROXY_HOPS: '1' }).security).toMatchObject({ maxBodyBytes: 32_768, trustProxyHops: 1 });
  });
});
