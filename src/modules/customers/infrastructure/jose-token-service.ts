import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  SignJWT,
  calculateJwkThumbprint,
  errors,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  jwtVerify,
  type CryptoKey,
  type JWTVerifyGetKey,
} from 'jose';
import type { Role, Viewer } from '../../../platform/op-context.ts';
import { isRole } from '../domain/customer.ts';
import type { TokenIssuer } from '../application/ports.ts';

/** Issues access tokens and turns a presented token back into the viewer it was issued to. */
export interface TokenService extends TokenIssuer {
  /**
   * @returns the signed-in customer the token was issued to, or undefined for any token that is
   * malformed, expired, not yet valid, signed with another algorithm or key, or meant for another
   * issuer or audience.
   */
  verify(token: string): Promise<Viewer | undefined>;
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
}

const ALG = 'ES256';
/** Media type of OAuth 2.0 access tokens in JWT form (RFC 9068 §2.1), so an ID token or other JWT is not accepted in its place. */
const TOKEN_TYPE = 'at+jwt';
/** Allowed clock skew between this service and whoever minted the token (seconds). */
const CLOCK_TOLERANCE_SECONDS = 5;
/** Far above what this service issues (~500 bytes); longer input is rejected before parsing. */
const MAX_TOKEN_LENGTH = 4096;
/** File name of the generated development key inside `dataDir`. */
export const DEV_KEY_FILE = 'jwt-es256.pem';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * {@link TokenService} on `jose`: ES256 (ECDSA P-256) JWTs with `sub` = customer id and a `role`
 * claim, `kid` = the RFC 7638 thumbprint of the public key. Roles are read from the token, so a
 * role change takes effect when the customer's current token expires.
 */
export class JoseTokenService implements TokenService {
  readonly #privateKey: CryptoKey;
  readonly #publicKey: CryptoKey;
  readonly #kid: string;
  readonly #options: Pick<TokenServiceOptions, 'issuer' | 'audience' | 'ttlSeconds'>;

  /** Use {@link JoseTokenService.fromPkcs8} or {@link createTokenService}. */
  constructor(keys: { privateKey: CryptoKey; publicKey: CryptoKey; kid: string }, options: Pick<TokenServiceOptions, 'issuer' | 'audience' | 'ttlSeconds'>) {
    this.#privateKey = keys.privateKey;
    this.#publicKey = keys.publicKey;
    this.#kid = keys.kid;
    this.#options = options;
  }

  /**
   * @param pem PKCS#8 PEM of a P-256 private key.
   * @throws Error when the PEM is not such a key.
   */
  static async fromPkcs8(pem: string, options: Pick<TokenServiceOptions, 'issuer' | 'audience' | 'ttlSeconds'>): Promise<JoseTokenService> {
    let privateKey: CryptoKey;
    try {
      privateKey = await importPKCS8(pem, ALG, { extractable: true });
    } catch (cause) {
      throw new Error('The JWT signing key must be a PKCS#8 PEM ("BEGIN PRIVATE KEY") of an EC P-256 key', { cause });
    }
    const { d: _secret, ...publicJwk } = await exportJWK(privateKey);
    const publicKey = (await importJWK(publicJwk, ALG)) as CryptoKey;
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    return new JoseTokenService({ privateKey, publicKey, kid }, options);
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
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.#keyFor, {
        algorithms: [ALG],
        typ: TOKEN_TYPE,
        issuer: this.#options.issuer,
        audience: this.#options.audience,
        requiredClaims: ['exp', 'iat', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        // Also refuses an `iat` in the future, and tokens older than the lifetime now configured.
        maxTokenAge: this.#options.ttlSeconds,
      });
      const { sub, role } = payload;
      if (typeof sub !== 'string' || !UUID.test(sub) || typeof role !== 'string' || !isRole(role)) return undefined;
      return { kind: 'customer', customerId: sub, role };
    } catch (error) {
      if (error instanceof errors.JOSEError) return undefined;
      throw error;
    }
  }

  // A key resolver rather than the key itself, so a foreign `kid` is refused before any signature math.
  readonly #keyFor: JWTVerifyGetKey = (header) => {
    if (header.kid !== this.#kid) throw new errors.JWKSNoMatchingKey();
    return this.#publicKey;
  };
}

/**
 * Builds the token service from configuration. With `privateKeyPem`, signs with that key. Without
 * it, outside production, uses `${dataDir}/jwt-es256.pem`, generating it (mode 0600) on first use
 * so tokens survive restarts.
 * @throws Error in production without a key, or when the key is not a PKCS#8 P-256 private key.
 */
export async function createTokenService(options: TokenServiceOptions): Promise<JoseTokenService> {
  const { issuer, audience, ttlSeconds } = options;
  if (options.privateKeyPem) {
    // Environment variables often carry a PEM on one line with literal "\n" separators.
    return JoseTokenService.fromPkcs8(options.privateKeyPem.replaceAll('\\n', '\n'), { issuer, audience, ttlSeconds });
  }
  if (options.production) {
    throw new Error('JWT_PRIVATE_KEY is required in production: set it to a PKCS#8 PEM of an EC P-256 (ES256) private key');
  }
  return JoseTokenService.fromPkcs8(await loadOrCreateDevKey(options.dataDir), { issuer, audience, ttlSeconds });
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
