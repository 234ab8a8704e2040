import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  SignJWT,
  UnsecuredJWT,
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { postGraphQL } from './support.ts';

/**
 * Forged and broken tokens against the running app, over HTTP (401 UNAUTHENTICATED) and
 * graphql-ws (close 4403): every one refused. Also key rotation (a previous key's tokens still
 * accepted) and an external identity provider's tokens through its JWKS (served on loopback).
 */

let app: TestApp;
let jwks: Server;
let current: { privateKey: CryptoKey; kid: string; publicPem: string; publicJwk: JWK };
let previous: { privateKey: CryptoKey; kid: string };
let idp: { privateKey: CryptoKey; kid: string; publicJwk: JWK };
let customerId: string;
const IDP_ISSUER = 'https://id.example.test/';
const IDP_AUDIENCE = 'ordergraph-api';
let attacksTried = 0;

async function keyPair(alg: 'ES256' | 'RS256') {
  const pair = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  return { ...pair, publicJwk, kid: await calculateJwkThumbprint(publicJwk, 'sha256'), publicPem: await exportSPKI(pair.publicKey) };
}

beforeAll(async () => {
  const currentPair = await keyPair('ES256');
  const previousPair = await keyPair('ES256');
  const idpPair = await keyPair('RS256');
  current = currentPair;
  previous = previousPair;
  idp = idpPair;
  jwks = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: [{ ...idpPair.publicJwk, kid: idpPair.kid, alg: 'RS256', use: 'sig' }] }));
  });
  jwks.listen(0, '127.0.0.1');
  await new Promise((resolve) => jwks.once('listening', resolve));
  app = await startTestApp({
    env: {
      JWT_PRIVATE_KEY: await exportPKCS8(currentPair.privateKey),
      JWT_PREVIOUS_PUBLIC_KEYS: previousPair.publicPem,
      JWT_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`,
      JWT_JWKS_ISSUER: IDP_ISSUER,
      JWT_JWKS_AUDIENCE: IDP_AUDIENCE,
    },
  });
  const token = await app.demoToken('basic');
  customerId = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
});
afterAll(async () => {
  await app?.stop();
  jwks?.close();
  console.info(`JWT attacks tried: ${attacksTried} (each over HTTP and graphql-ws)`);
});

const now = () => Math.floor(Date.now() / 1000);

/** A token like the server's own, every part overridable. */
function forge(options: { payload?: JWTPayload; header?: Record<string, unknown>; key?: CryptoKey | Uint8Array; alg?: string; omit?: string[] } = {}): Promise<string> {
  const payload: JWTPayload = { sub: customerId, role: 'CUSTOMER', iss: 'ordergraph', aud: 'ordergraph-api', iat: now(), exp: now() + 60, ...options.payload };
  for (const claim of options.omit ?? []) delete payload[claim];
  return new SignJWT(payload).setProtectedHeader({ alg: options.alg ?? 'ES256', typ: 'at+jwt', kid: current.kid, ...options.header }).sign(options.key ?? current.privateKey);
}

/** What the API makes of a token: the signed-in e-mail, 'anonymous', or 'refused'. */
async function overHttp(token: string): Promise<string> {
  const reply = await postGraphQL(app.running.url, { query: '{ me { email role } }' }, { authorization: `Bearer ${token}` });
  const body = JSON.parse(reply.text) as { data?: { me: { email: string; role: string } | null } | null; errors?: { extensions: { code: string } }[] };
  if (reply.status === 401 && body.errors?.[0]?.extensions.code === 'UNAUTHENTICATED') return 'refused';
  return body.data?.me ? `${body.data.me.email}/${body.data.me.role}` : 'anonymous';
}

/** The close code of a graphql-ws connection initialised with the token, or 'ack'. */
async function overWebSocket(token: string): Promise<number | 'ack'> {
  const socket = new WebSocket(app.running.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  await new Promise((resolve) => socket.once('open', resolve));
  const outcome = new Promise<number | 'ack'>((resolve) => {
    socket.on('message', (data) => String(data).includes('connection_ack') && resolve('ack'));
    socket.on('close', (code) => resolve(code));
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  const result = await outcome;
  socket.close(1000);
  return result;
}

describe('forged and broken tokens', () => {
  it('accepts a token forged exactly like the server’s own (the baseline for the attacks)', async () => {
    expect(await overHttp(await forge())).toBe('basic@ordergraph.dev/CUSTOMER');
    expect(await overWebSocket(await forge())).toBe('ack');
  });

  const attacks: [string, () => Promise<string>][] = [
    ['alg none', async () => new UnsecuredJWT({ role: 'ADMIN' }).setSubject(customerId).setIssuer('ordergraph').setAudience('ordergraph-api').setIssuedAt().setExpirationTime('1m').encode()],
    ['alg none with the server’s kid', async () => {
      const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: current.kid }));
      const payload = base64url.encode(JSON.stringify({ sub: customerId, role: 'ADMIN', iss: 'ordergraph', aud: 'ordergraph-api', iat: now(), exp: now() + 60 }));
      return `${header}.${payload}.`;
    }],
    ['HS256 keyed with the public key (PEM)', () => forge({ alg: 'HS256', key: new TextEncoder().encode(current.publicPem) })],
    ['HS256 keyed with the public key (JWK)', () => forge({ alg: 'HS256', key: new TextEncoder().encode(JSON.stringify(current.publicJwk)) })],
    ['HS256 keyed with the IdP’s public key', () => forge({ alg: 'HS256', key: new TextEncoder().encode(JSON.stringify(idp.publicJwk)), payload: { iss: IDP_ISSUER, aud: IDP_AUDIENCE } })],
    ['an unknown kid', () => forge({ header: { kid: 'rotated-out' } })],
    ['no kid', () => forge({ header: { kid: undefined } })],
    ['a kid of the server but another key', async () => forge({ key: (await generateKeyPair('ES256')).privateKey })],
    ['expired', () => forge({ payload: { iat: now() - 120, exp: now() - 30 } })],
    ['not yet valid (nbf)', () => forge({ payload: { nbf: now() + 120 } })],
    ['issued in the future', () => forge({ payload: { iat: now() + 120, exp: now() + 180 } })],
    ['another issuer', () => forge({ payload: { iss: 'evil' } })],
    ['another audience', () => forge({ payload: { aud: 'another-api' } })],
    ['no exp', () => forge({ omit: ['exp'] })],
    ['no sub', () => forge({ omit: ['sub'] })],
    ['a sub that is no customer id', () => forge({ payload: { sub: '../admin' } })],
    ['an unknown role', () => forge({ payload: { role: 'ROOT' } })],
    ['another typ (an ID token)', () => forge({ header: { typ: 'JWT' } })],
    ['a tampered payload (role → ADMIN)', async () => {
      const [header, payload, signature] = (await forge()).split('.') as [string, string, string];
      const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload)));
      return `${header}.${base64url.encode(JSON.stringify({ ...claims, role: 'ADMIN' }))}.${signature}`;
    }],
    ['a tampered header (kid swapped)', async () => {
      const [, payload, signature] = (await forge()).split('.') as [string, string, string];
      return `${base64url.encode(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: previous.kid }))}.${payload}.${signature}`;
    }],
    ['a truncated signature', async () => (await forge()).slice(0, -10)],
    ['an oversized token', async () => `${await forge()}${'A'.repeat(5_000)}`],
    ['the IdP’s issuer signed by someone else', async () => {
      const other = await keyPair('RS256');
      return new SignJWT({ sub: customerId }).setProtectedHeader({ alg: 'RS256', kid: idp.kid }).setIssuer(IDP_ISSUER).setAudience(IDP_AUDIENCE).setIssuedAt().setExpirationTime('1m').sign(other.privateKey);
    }],
    ['an IdP token for another audience', () =>
      new SignJWT({ sub: customerId }).setProtectedHeader({ alg: 'RS256', kid: idp.kid }).setIssuer(IDP_ISSUER).setAudience('someone-else').setIssuedAt().setExpirationTime('1m').sign(idp.privateKey)],
    ['an expired IdP token', () =>
      new SignJWT({ sub: customerId }).setProtectedHeader({ alg: 'RS256', kid: idp.kid }).setIssuer(IDP_ISSUER).setAudience(IDP_AUDIENCE).setIssuedAt(now() - 600).setExpirationTime(now() - 300).sign(idp.privateKey)],
    ['the IdP’s key used for the server’s issuer', () =>
      new SignJWT({ sub: customerId, role: 'ADMIN' }).setProtectedHeader({ alg: 'RS256', kid: idp.kid, typ: 'at+jwt' }).setIssuer('ordergraph').setAudience('ordergraph-api').setIssuedAt().setExpirationTime('1m').sign(idp.privateKey)],
  ];

  it.each(attacks)('refuses %s over HTTP (401) and graphql-ws (4403)', async (_label, make) => {
    const token = await make();
    attacksTried += 1;
    expect(await overHttp(token)).toBe('refused');
    expect(await overWebSocket(token)).toBe(4403);
  });
});

describe('key rotation and an external identity provider', () => {
  it('accepts unexpired tokens of the previous signing key (JWT_PREVIOUS_PUBLIC_KEYS), found by kid', async () => {
    const old = await forge({ key: previous.privateKey, header: { kid: previous.kid } });
    expect(await overHttp(old)).toBe('basic@ordergraph.dev/CUSTOMER');
    expect(await overWebSocket(old)).toBe('ack');
  });

  it('signs new tokens with the current key', async () => {
    const token = await app.signIn('basic@ordergraph.dev', 'demo-pass-basic');
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string; alg: string };
    expect(header).toMatchObject({ kid: current.kid, alg: 'ES256' });
  });

  it('accepts the identity provider’s tokens, verified against its JWKS; sub is the customer, role defaults to CUSTOMER', async () => {
    const external = await new SignJWT({ sub: customerId })
      .setProtectedHeader({ alg: 'RS256', kid: idp.kid })
      .setIssuer(IDP_ISSUER)
      .setAudience(IDP_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(idp.privateKey);
    expect(await overHttp(external)).toBe('basic@ordergraph.dev/CUSTOMER');
    expect(await overWebSocket(external)).toBe('ack');
  });
});
