/**
 * A value-or-failure for expected outcomes (validation, not found, out of stock…).
 * Use cases return it; only unexpected faults are thrown.
 */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

/** Wraps a success value. */
export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });

/** Wraps an expected failure. */
export const err = <E>(error: E): { readonly ok: false; readonly error: E } => ({ ok: false, error });

/**
 * Returns the value or throws the failure. Used at the GraphQL edge, where the Pothos errors plugin
 * turns the thrown typed error into a member of the field's result union.
 */
export function unwrap<T, E>(result: Result<T, E>): T {
  if (result.ok) return result.value;
  throw result.error;
}
