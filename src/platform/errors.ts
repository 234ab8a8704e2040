/**
 * Expected failures shared by every module. Each carries a stable `code` that clients switch on
 * (exposed through the GraphQL `Error` interface and, for top-level errors, `extensions.code`).
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
}

/** One invalid input value: `path` is the input field path, e.g. `["lines", "2", "quantity"]`. */
export interface FieldIssue {
  readonly path: readonly string[];
  readonly message: string;
}

/** Input that breaks a rule. Lists every offending field, not only the first. */
export class ValidationError extends AppError {
  readonly code = 'VALIDATION_FAILED';
  readonly issues: readonly FieldIssue[];
  constructor(issues: readonly FieldIssue[], message = 'The input is invalid') {
    super(message);
    this.issues = issues;
  }
  /** One-issue shortcut. */
  static of(path: readonly string[], message: string): ValidationError {
    return new ValidationError([{ path, message }], message);
  }
}

/**
 * No such entity visible to the viewer. Deliberately the same for "does not exist" and
 * "belongs to someone else", so ids cannot be probed.
 */
export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  constructor(what = 'resource') {
    super(`The ${what} was not found`);
  }
}

/** The viewer is known but lacks the role for this action. */
export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
  constructor(message = 'You are not allowed to do this') {
    super(message);
  }
}

/** The action needs a signed-in viewer. */
export class UnauthenticatedError extends AppError {
  readonly code = 'UNAUTHENTICATED';
  constructor(message = 'Sign in to do this') {
    super(message);
  }
}

/**
 * IDEMPOTENCY_KEY_REUSED: the caller already used this idempotency key within its window for a
 * different request (other input, or another mutation); nothing was done. Shared by every module
 * whose writes take a key (ADR 0013).
 */
export class IdempotencyKeyReusedError extends AppError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor(message = 'This idempotency key was already used with a different request') {
    super(message);
  }
}

/** Raised when `op.signal` is aborted between steps; the request is gone, so the error only unwinds. */
export function throwIfAborted(signal: AbortSignal): void {
  signal.throwIfAborted();
}
