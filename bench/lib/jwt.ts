import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { UUID } from './shapes.ts';

/** Who a verified access token names. */
export interface TokenViewer {
  readonly customerId: string;
  readonly role: 'CUSTOMER' | 'ADMIN';
}

/**
 * The least an HTTP handler must do with Ordergraph's access tokens, by hand on node:crypto: an
 * ES256 signature over `header.payload` with the one public key, `typ: at+jwt`, `alg: ES256`, the
 * issuer, audience, expiry (5 s tolerance) and a UUID subject. Contestant R's authentication: the
 * practical limit of the same check Ordergraph makes with jose.
 */
export function createEs256Verifier(publicKeyPem: string, expected: { issuer: string; audience: string }) {
  const key: KeyObject = createPublicKey(publicKeyPem);
  return (authorization: string | undefined): TokenViewer | undefined => {
    if (!authorization?.startsWith('Bearer ')) return undefined;
    const token = authorization.slice(7);
    const [h, p, s] = token.split('.');
    if (!h || !p || !s || token.length > 4096) return undefined;
    try {
      const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: string; typ?: string };
      if (header.alg !== 'ES256' || header.typ !== 'at+jwt') return undefined;
      if (!verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) return undefined;
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as { iss?: string; aud?: string | string[]; exp?: number; sub?: string; role?: string };
      const now = Date.now() / 1000;
      if (claims.iss !== expected.issuer) return undefined;
      if (!(claims.aud === expected.audience || (Array.isArray(claims.aud) && claims.aud.includes(expected.audience)))) return undefined;
      if (typeof claims.exp !== 'number' || claims.exp + 5 < now) return undefined;
      if (typeof claims.sub !== 'string' || !UUID.test(claims.sub)) return undefined;
      if (claims.role !== 'CUSTOMER' && claims.role !== 'ADMIN') return undefined;
      return { customerId: claims.sub, role: claims.role };
    } catch {
      return undefined;
    }
  };
}
