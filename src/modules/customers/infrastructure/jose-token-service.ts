import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  SignJWT,
  calculateJwkThumbprint,
  createRemoteJWKSet,
  decodeJwt,
  errors,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  importSPKI,
  jwtVerify,
  type CryptoKey,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Role, Viewer } from '../../../platform/op-context.ts';
import { isLowerCaseUuid } from '../../../platform/uuid.ts';
import { isRole } from '../domain/customer.ts';
import type { TokenIssuer } from '../application/ports.ts';

/** A verified access token: who presented it and until when it is accepted. */
export interface Authentication {
  readonly viewer: Viewer;
  /**
   * The last instant the token is accepted: its `exp` plus the clock tolerance. A WebSocket
   * authenticated with it is closed then.
   */
  readonly validUntil: Date;
}

/** Issues access tokens and turns a presented token back into the viewer it was issued to. */
export interface TokenService extends TokenIssuer {
  /**
   * @returns the signed-in customer the token was issued to, or undefined for any token that is
   * malformed, expired, not yet valid, signed with another algorithm or key, or meant for another
   * issuer or audience.
   */
  verify(token: string): Promise<Viewer | undefined>;
  /** {@link TokenService.verify}, with the token's expiry. */
  authenticate(token: string): Promise<Authentication | undefined>;
}

/**
 * Tokens of an external identity provider, verified against its JSON Web Key Set. Its `sub` must
 * be the customer's id (a UUID); its `role` claim, if any, CUSTOMER or ADMIN (default CUSTOMER).
 */
export interface ExternalIssuer {
  /** HTTPS URL of the provider's JWKS (e.g. `https://id.example.com/.well-known/jwks.json`). */
  readonly jwksUrl: string;
  /** Its tokens' `iss`; tokens with this issuer are verified against the JWKS, all others locally. */
  readonly issuer: string;
  /** The `aud` its tokens must carry for this API. */
  readonly audience: string;
}

/** What {@link createTokenService} needs (the `auth` part of the config, plus where dev keys live). */
export interface TokenServiceOptions {
  /** PKCS#8 PEM of a P-256 private key; undefined outside production to use a key under `dataDir`. */
  readonly privateKeyPem: string | undefined;
  readonly dataDir: string;
  readonly issuer: string;
  readonly audience: string;
  /** Token lifetime in seconds. */
  readonly ttlSeconds: number;
  readonly production: boolean;
  /**
   * SPKI PEMs (`BEGIN PUBLIC KEY`, several concatenated) of earlier signing keys, whose tokens are
   * still accepted until they expire: key rotation without signing everyone out. Each is found by
   * its `kid` (JWK thumbprint).
   */
  readonly previousPublicKeysPem?: string | undefined;
  /** Also accept tokens of this identity provider. */
  readonly external?: ExternalIssuer | undefined;
}

const ALG = 'ES256';
/** Algorithms accepted from an external identity provider: asymmetric only, so no shared secret can forge. */
const EXTERNAL_ALGS = ['RS256', 'ES256'];
/** Media type of OAuth 2.0 access tokens in JWT form (RFC 9068 §2.1), so an ID token or other JWT is not accepted in its place. */
const TOKEN_TYPE = 'at+jwt';
/** Allowed clock skew between this service and whoever minted the token (seconds). */
const CLOCK_TOLERANCE_SECONDS = 5;
/** Verified tokens kept (~1 KB each): far more than the clients one instance serves at once. */
const VERIFIED_CACHE_ENTRIES = 10_000;
/** Far above what this service issues (~500 bytes); longer input is rejected before parsing. */
const MAX_TOKEN_LENGTH = 4096;
/** File name of the generated development key inside `dataDir`. */
export const DEV_KEY_FILE = 'jwt-es256.pem';

/** Verification of tokens from an external identity provider (see {@link ExternalIssuer}). */
interface ExternalVerifier {
  readonly issuer: string;
  readonly audience: string;
  readonly keys: JWTVerifyGetKey;
}

/**
 * {@link TokenService} on `jose`: ES256 (ECDSA P-256) JWTs with `sub` = customer id and a `role`
 * claim, `kid` = the RFC 7638 thumbprint of the public key. Roles are read from the token, so a
 * role change takes effect when the customer's current token expires.
 *
 * Verification pins the algorithm, requires `exp`, `iat` and `sub`, checks `iss`, `aud` and the
 * `at+jwt` type with 5 s of clock tolerance, and picks the key by `kid` among the current one and
 * earlier ones still trusted (rotation). Tokens whose `iss` is a configured external provider's are
 * verified against its JWKS instead, which jose fetches, caches (10 min) and refetches for an
 * unknown `kid` at most every 30 s.
 */
export class JoseTokenService implements TokenService {
  readonly #privateKey: CryptoKey;
  readonly #kid: string;
  readonly #verificationKeys: ReadonlyMap<string, CryptoKey>;
  readonly #external: ExternalVerifier | undefined;
  readonly #options: Pick<TokenServiceOptions, 'issuer' | 'audience' | 'ttlSeconds'>;

  /** Use {@link JoseTokenService.fromPkcs8} or {@link createTokenService}. */
  constructor(
    keys: { privateKey: CryptoKey; publicKey: CryptoKey; kid: string; previous?: ReadonlyMap<string, CryptoKey>; external?: ExternalVerifier },
    options: Pick<TokenServiceOptions, 'issuer' | 'audience' | 'ttlSeconds'>,
  ) {
    this.#privateKey = keys.privateKey;
    this.#kid = keys.kid;
    this.#verificationKeys = new Map([...(keys.previous ?? []), [keys.kid, keys.publicKey]]);
    this.#external = keys.external;
    this.#options = options;
  }

  /**
   * @param pem PKCS#8 PEM of a P-256 private key.
   * @param trust earlier public keys still accepted, and an external identity provider.
   * @throws Error when the PEM is not such a key, or a previous key is not a P-256 SPKI PEM.
   */
  static async fromPkcs8(
    pem: string,
    options: Pick<TokenServiceOptions, 'issuer' | 'audience' | 'ttlSeconds'>,
    trust: Pick<TokenServiceOptions, 'previousPublicKeysPem' | 'external'> = {},
  ): Promise<JoseTokenService> {
    let privateKey: CryptoKey;
    try {
      privateKey = await importPKCS8(pem, ALG, { extractable: true });
    } catch (cause) {
      throw new Error('The JWT signing key must be a PKCS#8 PEM ("BEGIN PRIVATE KEY") of an EC P-256 key', { cause });
    }
    const { d: _secret, ...publicJwk } = await exportJWK(privateKey);
    const publicKey = (await importJWK(publicJwk, ALG)) as CryptoKey;
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    const previous = await importPublicKeys(trust.previousPublicKeysPem);
    const external = trust.external
      ? {
          issuer: trust.external.issuer,
          audience: trust.external.audience,
          keys: createRemoteJWKSet(new URL(trust.external.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 }),
        }
      : undefined;
    return new JoseTokenService({ privateKey, publicKey, kid, previous, ...(external ? { external } : {}) }, options);
  }

  /** The key id stamped on every token (the public key's JWK SHA-256 thumbprint). */
  get keyId(): string {
    return this.#kid;
  }

  async issue(claims: { readonly customerId: string; readonly role: Role }): Promise<{ accessToken: string; expiresAt: Date }> {
    const issuedAt = Math.floor(Date.now() / 1000);
    const expiresAt = issuedAt + this.#options.ttlSeconds;
    const accessToken = await new SignJWT({ role: claims.role })
      .setProtectedHeader({ alg: ALG, kid: this.#kid, typ: TOKEN_TYPE })
      .setSubject(claims.customerId)
      .setIssuer(this.#options.issuer)
      .setAudience(this.#options.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(crypto.randomUUID())
      .sign(this.#privateKey);
    return { accessToken, expiresAt: new Date(expiresAt * 1000) };
  }

  async verify(token: string): Promise<Viewer | undefined> {
    return (await this.authenticate(token))?.viewer;
  }

  async authenticate(token: string): Promise<Authentication | undefined> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
    // A client sends the same token with every request for its whole lifetime; the signature check
    // (WebCrypto, asynchronous) was the largest fixed cost of a small request (issue #6). A token
    // verified once is accepted again until it would stop passing the time checks; the key is the
    // whole token, signature included, so only the very same bytes hit the cache.
    const cached = this.#verified.get(token);
    if (cached) {
      if (Date.now() < cached.until) return cached.authentication;
      this.#verified.delete(token);
    }
    const authentication = await this.#verify(token);
    if (authentication) this.#remember(token, authentication);
    return authentication;
  }

  /** Verified tokens (insertion order: the oldest first) and when each must be checked again. */
  readonly #verified = new Map<string, { readonly authentication: Authentication; readonly until: number }>();

  #remember(token: string, authentication: Authentication): void {
    const { iat } = decodeJwt(token);
    // The earliest of: expiry (with the clock tolerance, as validUntil), and `iat` + lifetime (maxTokenAge).
    const until = Math.min(authentication.validUntil.getTime(), typeof iat === 'number' ? (iat + this.#options.ttlSeconds + CLOCK_TOLERANCE_SECONDS) * 1000 : 0);
    if (until <= Date.now()) return;
    if (this.#verified.size >= VERIFIED_CACHE_ENTRIES) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, { authentication, until });
  }

  async #verify(token: string): Promise<Authentication | undefined> {
    try {
      const external = this.#external && issuerOf(token) === this.#external.issuer ? this.#external : undefined;
      const { payload } = external
        ? await jwtVerify(token, external.keys, {
            algorithms: EXTERNAL_ALGS,
            issuer: external.issuer,
            audience: external.audience,
            requiredClaims: ['exp', 'sub'],
            clockTolerance: CLOCK_TOLERANCE_SECONDS,
          })
        : await jwtVerify(token, this.#keyFor, {
            algorithms: [ALG],
            typ: TOKEN_TYPE,
            issuer: this.#options.issuer,
            audience: this.#options.audience,
            requiredClaims: ['exp', 'iat', 'sub'],
            clockTolerance: CLOCK_TOLERANCE_SECONDS,
            // Also refuses an `iat` in the future, and tokens older than the lifetime now configured.
            maxTokenAge: this.#options.ttlSeconds,
          });
      const viewer = viewerOf(payload, external ? 'CUSTOMER' : undefined);
      return viewer && typeof payload.exp === 'number' ? { viewer, validUntil: new Date((payload.exp + CLOCK_TOLERANCE_SECONDS) * 1000) } : undefined;
    } catch (error) {
      if (error instanceof errors.JOSEError) return undefined;
      throw error;
    }
  }

  // A key resolver rather than the key itself, so a foreign `kid` is refused before any signature math.
  readonly #keyFor: JWTVerifyGetKey = (header) => {
    const key = header.kid === undefined ? undefined : this.#verificationKeys.get(header.kid);
    if (!key) throw new errors.JWKSNoMatchingKey();
    return key;
  };
}

/** The customer viewer a verified payload names; `defaultRole` when it has no role claim (external tokens). */
function viewerOf(payload: JWTPayload, defaultRole: Role | undefined): Viewer | undefined {
  const { sub } = payload;
  const role = payload['role'] ?? defaultRole;
  if (typeof sub !== 'string' || !isLowerCaseUuid(sub) || typeof role !== 'string' || !isRole(role)) return undefined;
  return { kind: 'customer', customerId: sub, role };
}

/** The unverified `iss` of a token, only to choose which keys verify it; undefined when unreadable. */
function issuerOf(token: string): string | undefined {
  try {
    return decodeJwt(token).iss;
  } catch {
    return undefined;
  }
}

/** Imports each `BEGIN PUBLIC KEY` block of `pem` as an ES256 key, keyed by its JWK thumbprint. */
async function importPublicKeys(pem: string | undefined): Promise<Map<string, CryptoKey>> {
  const keys = new Map<string, CryptoKey>();
  const blocks = pem?.replaceAll('\\n', '\n').match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  if (pem?.trim() && blocks.length === 0) throw new Error('JWT_PREVIOUS_PUBLIC_KEYS must hold SPKI PEMs ("BEGIN PUBLIC KEY") of EC P-256 keys');
  for (const block of blocks) {
    let key: CryptoKey;
    try {
      key = await importSPKI(block, ALG, { extractable: true });
    } catch (cause) {
      throw new Error('JWT_PREVIOUS_PUBLIC_KEYS must hold SPKI PEMs ("BEGIN PUBLIC KEY") of EC P-256 keys', { cause });
    }
    keys.set(await calculateJwkThumbprint(await exportJWK(key), 'sha256'), key);
  }
  return keys;
}

/**
 * Builds the token service from configuration. With `privateKeyPem`, signs with that key. Without
 * it, outside production, uses `${dataDir}/jwt-es256.pem`, generating it (mode 0600) on first use
 * so tokens survive restarts.
 * @throws Error in production without a key, or when the key is not a PKCS#8 P-256 private key.
 */
export async function createTokenService(options: TokenServiceOptions): Promise<JoseTokenService> {
  const { issuer, audience, ttlSeconds } = options;
  const trust = { previousPublicKeysPem: options.previousPublicKeysPem, external: options.external };
  if (options.privateKeyPem) {
    // Environment variables often carry a PEM on one line with literal "\n" separators.
    return JoseTokenService.fromPkcs8(options.privateKeyPem.replaceAll('\\n', '\n'), { issuer, audience, ttlSeconds }, trust);
  }
  if (options.production) {
    throw new Error('JWT_PRIVATE_KEY is required in production: set it to a PKCS#8 PEM of an EC P-256 (ES256) private key');
  }
  return JoseTokenService.fromPkcs8(await loadOrCreateDevKey(options.dataDir), { issuer, audience, ttlSeconds }, trust);
}

async function loadOrCreateDevKey(dataDir: string): Promise<string> {
  const file = join(dataDir, DEV_KEY_FILE);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  // Written in full under a private name, then linked into place: link() fails when the file
  // exists, so of two processes starting at once both end up with the first one's complete key.
  const draft = `${file}.${process.pid}.${crypto.randomUUID()}.tmp`;
  await writeFile(draft, await exportPKCS8(privateKey), { mode: 0o600, flag: 'wx' });
  try {
    await link(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(draft, { force: true });
  }
  return readFile(file, 'utf8');
}
