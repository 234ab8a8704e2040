import { createHash } from 'node:crypto';
import type { FieldIssue } from './errors.ts';
import type { Viewer } from './op-context.ts';
import { textIssues } from './text.ts';

/**
 * How long a key answers with its first result, in ms: 24 h, Stripe's window, which covers any
 * client's retry policy while keeping the key tables small (ADR 0013).
 */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60_000;

/** Longest key in code points: placeOrder's rule (room for a UUID or a client's own scheme). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/** One idempotent request: who sends it, their key, and the fingerprint of what they ask. */
export interface IdempotencyClaim {
  /** The caller the key belongs to (`customer:<id>`, `admin:<id>`, `system:<name>`): keys of different callers never meet. */
  readonly identity: string;
  readonly key: string;
  /** {@link requestFingerprint} of the operation and its input. */
  readonly fingerprint: string;
}

/** VALIDATION_FAILED issues of a client's key: 1–255 characters, one line, no control characters. */
export function idempotencyKeyIssues(key: string, path: readonly string[]): FieldIssue[] {
  return textIssues(key, path, { minLength: 1, maxLength: IDEMPOTENCY_KEY_MAX_LENGTH });
}

/** JSON with object keys sorted at every level, so equal inputs serialise equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * SHA-256 (hex) of the operation's name and its canonical input (the use case's input as it
 * validated it, without the key): a key reused for another mutation or other values differs.
 */
export function requestFingerprint(operation: string, input: unknown): string {
  return createHash('sha256').update(`${operation}\n${canonicalJson(input)}`).digest('hex');
}

/**
 * The claim of `key` for `viewer`'s request, or undefined when there is no key (or no caller to
 * own it: anonymous requests are never replayed).
 */
export function claimOf(viewer: Viewer, key: string | undefined, operation: string, input: unknown): IdempotencyClaim | undefined {
  if (key === undefined) return undefined;
  const identity = viewer.kind === 'anonymous' ? undefined : viewer.kind === 'system' ? `system:${viewer.name}` : `customer:${viewer.customerId}`;
  if (identity === undefined) return undefined;
  return { identity, key, fingerprint: requestFingerprint(operation, input) };
}
