import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';
import type { PasswordHasher } from '../application/ports.ts';

/**
 * Argon2id with the OWASP Password Storage Cheat Sheet's first recommended configuration:
 * m = 19456 KiB (19 MiB), t = 2 passes, p = 1 lane. `Algorithm` is a declared const enum, which
 * type stripping cannot inline (and the package's runtime object is empty), so the value is
 * spelled out: Argon2id = 2 in the package's index.d.ts.
 */
export const ARGON2_OPTIONS: Readonly<Options> = Object.freeze({
  algorithm: 2 as Algorithm,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
});

/** {@link PasswordHasher} on `@node-rs/argon2` (native, off the event loop). Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`). */
export class Argon2PasswordHasher implements PasswordHasher {
  hash(password: string): Promise<string> {
    return hash(password, ARGON2_OPTIONS);
  }

  /** Verifies with the parameters stored in `hashed`, so hashes made under older parameters keep working. */
  verify(hashed: string, password: string): Promise<boolean> {
    return verify(hashed, password);
  }
}

/** @returns the production password hasher. */
export const createPasswordHasher = (): PasswordHasher => new Argon2PasswordHasher();
