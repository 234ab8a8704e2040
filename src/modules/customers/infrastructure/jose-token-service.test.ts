import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, UnsecuredJWT, base64url, calculateJwkThumbprint, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, type CryptoKey, type JWTPayload } from 'jose';
import { DEV_KEY_FILE, JoseTokenService, createTokenService, type TokenServiceOptions } from './jose-token-service.ts';

const options = { issuer: 'ordergraph', audience: 'ordergraph-api', ttlSeconds: 900 };
const customerId = crypto.randomUUID();

let pem: string;
let privateKey: CryptoKey;
let service: JoseTokenService;
let dataDir: string;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  pem = await exportPKCS8(pair.privateKey);
  privateKey = pair.privateKey;
  service = await createTokenService({ ...options, privateKeyPem: pem, dataDir: '/nonexistent', production: true });
  dataDir = await mkdtemp(join(tmpdir(), 'ordergraph-jwt-'));
});
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const now = () => Math.floor(Date.now() / 1000);

/** Signs `payload` like the service does, with every part overridable. */
async function forge(
  overrides: { payload?: JWTPayload; header?: Record<string, unknown>; key?: CryptoKey | Uint8Array; alg?: string; omit?: string[] } = {},
): Promise<string> {
  const payload: JWTPayload = {
    sub: customerId,
    role: 'CUSTOMER',
    iss: options.issuer,
    aud: options.audience,
    iat: now(),
    exp: now() + 60,
    ...overrides.payload,
  };
  for (const claim of overrides.omit ?? []) delete payload[claim];
  const alg = overrides.alg ?? 'ES256';
  return new SignJWT(payload)
    .setProtectedHeader({ alg, typ: 'at+jwt', kid: service.keyId, ...overrides.header })
    .sign(overrides.key ?? privateKey);
}

describe('JoseTokenService', () => {
  it('round-trips a token to the customer viewer with its role', async () => {
    const before = Date.now();
    const { accessToken, expiresAt } = await service.issue({ customerId, role: 'ADMIN' });
    expect(await service.verify(accessToken)).toEqual({ kind: 'customer', customerId, role: 'ADMIN' });
    expect(expiresAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 900_000);
    expect(expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 900_000);
  });

  it('stamps ES256, the at+jwt type and the key thumbprint as kid', async () => {
    const { accessToken } = await service.issue({ customerId, role: 'CUSTOMER' });
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(accessToken.split('.')[0] ?? '')));
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: service.keyId });
    expect(service.keyId).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('accepts a token forged exactly like its own (the baseline for the rejections below)', async () => {
    expect(await service.verify(await forge())).toEqual({ kind: 'customer', customerId, role: 'CUSTOMER' });
  });

  it('rejects a token whose payload was tampered with', async () => {
    const { accessToken } = await service.issue({ customerId, role: 'CUSTOMER' });
    const [header, payload, signature] = accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload)));
    const elevated = base64url.encode(JSON.stringify({ ...claims, role: 'ADMIN' }));
    expect(await service.verify(`${header}.${elevated}.${signature}`)).toBeUndefined();
  });

  it.each([
    ['another issuer', { payload: { iss: 'someone-else' } }],
    ['another audience', { payload: { aud: 'another-api' } }],
    ['an expired token (beyond the 5 s tolerance)', { payload: { iat: now() - 120, exp: now() - 10 } }],
    ['a token issued in the future', { payload: { iat: now() + 60, exp: now() + 120 } }],
    ['a token older than the lifetime', { payload: { iat: now() - 1_000, exp: now() + 60 } }],
    ['a token without sub', { omit: ['sub'] }],
    ['a token without iat', { omit: ['iat'] }],
    ['a token without exp', { omit: ['exp'] }],
    ['a sub that is not a customer id', { payload: { sub: 'admin' } }],
    ['a sub in upper case (customer ids are issued in lower case)', { payload: { sub: customerId.toUpperCase() } }],
    ['an unknown role', { payload: { role: 'ROOT' } }],
    ['another kid', { header: { kid: 'another-key' } }],
    ['no kid', { header: { kid: undefined } }],
    ['another typ', { header: { typ: 'JWT' } }],
    ['a token not valid before a later time', { payload: { nbf: now() + 60 } }],
  ])('rejects %s', async (_label, overrides) => {
    expect(await service.verify(await forge(overrides))).toBeUndefined();
  });

  it('accepts a token that expired within the 5 s clock tolerance', async () => {
    expect(await service.verify(await forge({ payload: { iat: now() - 60, exp: now() - 2 } }))).toBeDefined();
  });

  it('rejects a token signed by another key, even with this key id', async () => {
    const other = await generateKeyPair('ES256');
    expect(await service.verify(await forge({ key: other.privateKey }))).toBeUndefined();
  });

  it('rejects alg none', async () => {
    const unsecured = new UnsecuredJWT({ role: 'ADMIN' })
      .setSubject(customerId)
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setExpirationTime('1m')
      .encode();
    expect(await service.verify(unsecured)).toBeUndefined();
  });

  it('rejects another algorithm, such as HS256 keyed with the public key', async () => {
    const { accessToken } = await service.issue({ customerId, role: 'CUSTOMER' });
    expect(await service.verify(await forge({ alg: 'HS256', key: new TextEncoder().encode(accessToken) }))).toBeUndefined();
  });

  it('tells until when a token is accepted: its exp plus the 5 s tolerance', async () => {
    const { accessToken, expiresAt } = await service.issue({ customerId, role: 'CUSTOMER' });
    const authentication = await service.authenticate(accessToken);
    expect(authentication?.validUntil.getTime()).toBe(expiresAt.getTime() + 5_000);
  });

  it.each([[''], ['abc'], ['a.b.c'], ['eyJhbGciOiJFUzI1NiJ9..'], ['x'.repeat(10_000)]])('rejects the malformed token %#', async (token) => {
    expect(await service.verify(token)).toBeUndefined();
  });
});

describe('createTokenService', () => {
  const devOptions = (dir: string): TokenServiceOptions => ({ ...options, privateKeyPem: undefined, dataDir: dir, production: false });

  it('generates a development key once (mode 0600) so tokens survive a restart', async () => {
    const dir = join(dataDir, 'nested', 'data');
    const first = await createTokenService(devOptions(dir));
    const file = join(dir, DEV_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await importPKCS8(await readFile(file, 'utf8'), 'ES256');
    const { accessToken } = await first.issue({ customerId, role: 'CUSTOMER' });
    const restarted = await createTokenService(devOptions(dir));
    expect(restarted.keyId).toBe(first.keyId);
    expect(await restarted.verify(accessToken)).toEqual({ kind: 'customer', customerId, role: 'CUSTOMER' });
  });

  it('agrees on one key when several processes start at once', async () => {
    const dir = join(dataDir, 'race');
    const services = await Promise.all([1, 2, 3, 4].map(() => createTokenService(devOptions(dir))));
    expect(new Set(services.map((s) => s.keyId)).size).toBe(1);
  });

  it('refuses to start in production without a key', async () => {
    await expect(createTokenService({ ...devOptions(dataDir), production: true })).rejects.toThrow(/JWT_PRIVATE_KEY is required in production/);
  });

  it('refuses a key that is not a PKCS#8 P-256 private key', async () => {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    await expect(createTokenService({ ...devOptions(dataDir), privateKeyPem: await exportPKCS8(rsa.privateKey) })).rejects.toThrow(/EC P-256/);
    await expect(createTokenService({ ...devOptions(dataDir), privateKeyPem: 'not a pem' })).rejects.toThrow(/PKCS#8/);
  });

  it('accepts a PEM given on one line with \\n escapes, as environment variables carry it', async () => {
    const oneLine = await createTokenService({ ...devOptions(dataDir), privateKeyPem: pem.trim().replaceAll('\n', '\\n') });
    expect(oneLine.keyId).toBe(service.keyId);
  });

  it('rejects tokens of another key, as after a key rotation', async () => {
    const { accessToken } = await service.issue({ customerId, role: 'CUSTOMER' });
    const rotated = await createTokenService(devOptions(join(dataDir, 'rotated')));
    expect(await rotated.verify(accessToken)).toBeUndefined();
  });
});

describe('key rotation and an external identity provider', () => {
  it('keeps accepting tokens of previous keys given as SPKI PEMs, and only those', async () => {
    const old = await generateKeyPair('ES256', { extractable: true });
    const older = await generateKeyPair('ES256', { extractable: true });
    const oldService = await JoseTokenService.fromPkcs8(await exportPKCS8(old.privateKey), options);
    const { accessToken } = await oldService.issue({ customerId, role: 'CUSTOMER' });
    expect(await service.verify(accessToken)).toBeUndefined();
    const rotated = await JoseTokenService.fromPkcs8(pem, options, {
      previousPublicKeysPem: `${await exportSPKI(old.publicKey)}\n${await exportSPKI(older.publicKey)}`,
    });
    expect(await rotated.verify(accessToken)).toEqual({ kind: 'customer', customerId, role: 'CUSTOMER' });
    expect(rotated.keyId).toBe(service.keyId);
    const stranger = await JoseTokenService.fromPkcs8(await exportPKCS8((await generateKeyPair('ES256', { extractable: true })).privateKey), options);
    expect(await rotated.verify((await stranger.issue({ customerId, role: 'CUSTOMER' })).accessToken)).toBeUndefined();
  });

  it('refuses previous keys that are not P-256 public keys', async () => {
    await expect(JoseTokenService.fromPkcs8(pem, options, { previousPublicKeysPem: 'junk' })).rejects.toThrow(/JWT_PREVIOUS_PUBLIC_KEYS/);
    const rsa = await generateKeyPair('RS256', { extractable: true });
    await expect(JoseTokenService.fromPkcs8(pem, options, { previousPublicKeysPem: await exportSPKI(rsa.publicKey) })).rejects.toThrow(/JWT_PREVIOUS_PUBLIC_KEYS/);
  });

  it('verifies an identity provider’s tokens against its JWKS (fetched once, cached), by issuer', async () => {
    const idp = await generateKeyPair('RS256', { extractable: true });
    const jwk = await exportJWK(idp.publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    let fetches = 0;
    const server = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [{ ...jwk, kid, alg: 'RS256' }] }));
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const external = { jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, issuer: 'https://idp.test/', audience: 'ordergraph-api' };
      const withIdp = await JoseTokenService.fromPkcs8(pem, options, { external });
      const idToken = (claims: JWTPayload, audience = external.audience) =>
        new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setIssuer(external.issuer).setAudience(audience).setIssuedAt().setExpirationTime('2m').sign(idp.privateKey);
      expect(await withIdp.verify(await idToken({ sub: customerId }))).toEqual({ kind: 'customer', customerId, role: 'CUSTOMER' });
      expect(await withIdp.verify(await idToken({ sub: customerId, role: 'ADMIN' }))).toEqual({ kind: 'customer', customerId, role: 'ADMIN' });
      expect(await withIdp.verify(await idToken({ sub: customerId }, 'elsewhere'))).toBeUndefined();
      expect(await withIdp.verify(await idToken({ sub: 'not-a-customer' }))).toBeUndefined();
      // The service's own tokens still verify locally.
      expect(await withIdp.verify((await service.issue({ customerId, role: 'CUSTOMER' })).accessToken)).toBeDefined();
      expect(fetches).toBe(1);
    } finally {
      server.close();
    }
  });
});
