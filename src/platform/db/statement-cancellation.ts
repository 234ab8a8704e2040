import pg from 'pg';
import type { Logger } from '../logger.ts';
import { currentStatementSignal } from '../cancellation.ts';

// Transaction control and session statements are never cancelled nor refused: a cancelled ROLLBACK
// would hand the pool a connection inside a failed transaction.
const TRANSACTION_CONTROL = /^\s*(begin|start\s+transaction|commit|end|rollback|abort|savepoint|release|prepare\s+transaction|set|reset)\b/i;

/** How long a cancel request may take before its socket is dropped (PostgreSQL answers in ~1 ms; a server that ignores cancels never does). */
const CANCEL_TIMEOUT_MS = 500;

type Query = (...args: unknown[]) => unknown;

/**
 * Cancels the SQL of an operation whose signal aborts (its client went away, or its deadline
 * passed): every client of `pool` checks, when a statement is sent, which signal it belongs to
 * ({@link currentStatementSignal}); if that signal aborts while the statement runs, the server is
 * sent PostgreSQL's CancelRequest (what `pg_cancel_backend` does, on a separate socket with the
 * connection's process id and secret key, through the driver's `Connection`), and a statement
 * whose signal has already aborted is refused before it is sent. The connection then takes no new
 * statement until the server has handled the cancel, so it can never hit the next request's
 * statement (a cancel that reaches an idle backend is discarded).
 *
 * Transaction control is exempt, so a transaction always ends cleanly (rolled back by the cancelled
 * statement's error). Statements with no signal (background workers, migrations) are untouched.
 * The embedded PGlite ignores CancelRequest: do not install it there. Each cancel is logged (info).
 */
export function cancelStatementsOnAbort(pool: pg.Pool, options: { logger: Logger }): void {
  const { logger } = options;
  pool.on('connect', (client) => {
    const raw = client as pg.PoolClient & { processID?: number; secretKey?: number; host: string; port: number };
    const send = client.query.bind(client) as Query;
    // Settles once a cancel sent for this connection has been handled by the server.
    let cancelling: Promise<void> | undefined;

    const cancel = (signal: AbortSignal) => {
      const processId = raw.processID;
      const secretKey = raw.secretKey;
      if (processId == null || secretKey == null || cancelling) return;
      const reason = signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError' ? 'deadline' : 'aborted';
      cancelling = new Promise<void>((resolve) => {
        const connection = new pg.Connection() as pg.Connection & { cancel(processId: number, secretKey: number): void; connect(port: number | string, host?: string): void };
        let finished = false;
        const done = () => {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          connection.stream.destroy();
          cancelling = undefined;
          resolve();
        };
        const timer = setTimeout(done, CANCEL_TIMEOUT_MS);
        connection.on('error', (error: Error) => {
          logger.warn({ err: error, processId }, 'could not send a statement cancel request');
          done();
        });
        // The server closes the socket once it has signalled the backend.
        connection.on('end', done);
        connection.once('connect', () => connection.cancel(processId, secretKey));
        if (raw.host.startsWith('/')) connection.connect(`${raw.host}/.s.PGSQL.${raw.port}`);
        else connection.connect(raw.port, raw.host);
      });
      logger.info({ processId, reason }, 'cancelling a statement of an aborted operation');
    };

    (client as unknown as { query: Query }).query = (...args: unknown[]) => {
      const first = args[0] as { text?: unknown; submit?: unknown } | string | undefined;
      // Callback-style calls and submittables (cursors, streams) keep the driver's own contract.
      if (typeof args.at(-1) === 'function' || (typeof first === 'object' && typeof first?.submit === 'function')) return send(...args);
      const signal = currentStatementSignal();
      const text = typeof first === 'string' ? first : first?.text;
      if (!signal || (typeof text === 'string' && TRANSACTION_CONTROL.test(text))) return cancelling ? cancelling.then(() => send(...args)) : send(...args);
      const start = () => {
        if (signal.aborted) return Promise.reject(signal.reason);
        const result = send(...args);
        if (!(result instanceof Promise)) return result;
        const onAbort = () => cancel(signal);
        signal.addEventListener('abort', onAbort, { once: true });
        const detach = () => signal.removeEventListener('abort', onAbort);
        result.then(detach, detach);
        return result;
      };
      return cancelling ? cancelling.then(start) : start();
    };
  });
}
