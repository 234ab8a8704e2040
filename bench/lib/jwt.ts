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
 * issuer, audience, expiry (5 s tolerance) and a UUID subject: the practical limit of the same
 * check Ordergraph makes with jose. Uncached; the contestants use {@link createCachedEs256Verifier}.
 * @returns the viewer and the token's `exp` (seconds since the epoch), or undefined when invalid.
 */
export function createEs256Verifier(publicKeyPem: string, expected: { issuer: string; audience: string }) {
  const key: KeyObject = createPublicKey(publicKeyPem);
  return (authorization: string | undefined): (TokenViewer & { readonly exp: number }) | undefined => {
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
      return { customerId: claims.sub, role: claims.role, exp: claims.exp };
    } catch {
      return undefined;
    }
  };
}

/** Verified tokens a contestant keeps, at most (Ordergraph's JoseTokenService keeps 10,000). */
export const VERIFIED_TOKEN_CACHE_ENTRIES = 10_000;
/** Clock tolerance of the expiry check in seconds, as Ordergraph's. */
const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * {@link createEs256Verifier} behind the cache Ordergraph puts in front of its own check (issue 11:
 * every contestant verifies tokens the same way): a token verified once is accepted again, without
 * the signature check, until its `exp` (+ 5 s tolerance); keyed by the whole token string, signature
 * included; at most {@link VERIFIED_TOKEN_CACHE_ENTRIES} entries, the oldest dropped first. Every
 * contestant of `npm run bench` (R, A, A+, M, P) authenticates through this.
 */
export function createCachedEs256Verifier(publicKeyPem: string, expected: { issuer: string; audience: string }) {
  const verify = createEs256Verifier(publicKeyPem, expected);
  const verified = new Map<string, { readonly viewer: TokenViewer; readonly until: number }>();
  return (authorization: string | undefined): TokenViewer | undefined => {
    if (!authorization?.startsWith('Bearer ')) return undefined;
    const token = authorization.slice(7);
    const cached = verified.get(token);
    if (cached) {
      if (Date.now() < cached.until) return cached.viewer;
      verified.delete(token);
    }
    const result = verify(authorization);
    if (!result) return undefined;
    const viewer: TokenViewer = { customerId: result.customerId, role: result.role };
    if (verified.size >= VERIFIED_TOKEN_CACHE_ENTRIES) verified.delete(verified.keys().next().value!);
    verified.set(token, { viewer, until: (result.exp + CLOCK_TOLERANCE_SECONDS) * 1_000 });
    return viewer;
  };
}
