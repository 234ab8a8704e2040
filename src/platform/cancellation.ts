import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Which signal the database statements started now belong to: set around the execution of a
 * GraphQL operation (its request's disconnect and deadline, src/graphql/security/request-deadline.ts)
 * and read by the connection pool, which cancels a running statement when that signal aborts
 * (src/platform/db/statement-cancellation.ts). Nothing else reads it; use cases keep passing
 * `op.signal` explicitly.
 */
const statementSignal = new AsyncLocalStorage<AbortSignal | undefined>();

/**
 * Runs `fn` with its database statements bound to `signal` (undefined: to none): when it aborts,
 * a statement still running is cancelled and no further one is sent. Work that must outlive the
 * request (placeOrder's payment once its order is committed) runs under its own signal this way.
 */
export function runWithStatementSignal<T>(signal: AbortSignal | undefined, fn: () => T): T {
  return statementSignal.run(signal, fn);
}

/** The signal the current statements are bound to, if any (see {@link runWithStatementSignal}). */
export function currentStatementSignal(): AbortSignal | undefined {
  return statementSignal.getStore();
}
