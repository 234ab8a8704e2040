import { GraphQLError, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { runWithStatementSignal } from '../../platform/cancellation.ts';
import type { Logger } from '../../platform/logger.ts';
import type { OpContext } from '../../platform/op-context.ts';

/** `extensions.code` of a query or mutation stopped at its deadline (REQUEST_TIMEOUT_MS). */
export const REQUEST_TIMEOUT_CODE = 'REQUEST_TIMEOUT';
/** `extensions.code` of a query or mutation whose client went away before it finished (nobody reads it; logs and metrics do). */
export const CLIENT_CLOSED_REQUEST_CODE = 'CLIENT_CLOSED_REQUEST';

const timedOut = (timeoutMs: number, error: GraphQLError) =>
  new GraphQLError(`The operation took longer than ${timeoutMs} ms and was stopped; nothing of it after that point was kept.`, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    // 504 as for a gateway whose upstream (PostgreSQL) did not answer in time.
    extensions: { code: REQUEST_TIMEOUT_CODE, http: { status: 504 } },
  });

const clientClosed = (error: GraphQLError) =>
  new GraphQLError('The client closed the request before it finished.', {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    // nginx's 499; the client is gone and never reads it.
    extensions: { code: CLIENT_CLOSED_REQUEST_CODE, http: { status: 499 } },
  });

/**
 * A deadline for every query and mutation, on every transport: `op.signal` of the operation
 * becomes "the client went away, or `timeoutMs` passed" (use cases stop between steps), and the
 * operation's SQL is bound to that signal, so the pool cancels a statement still running when it
 * aborts (platform/db/statement-cancellation.ts). The errors that follow (a cancelled statement, an
 * aborted step) are reported as REQUEST_TIMEOUT (HTTP 504), or CLIENT_CLOSED_REQUEST when the
 * client left, instead of masked internal errors. Typed outcomes (a result union, a coded error)
 * are kept. Subscriptions have neither deadline nor bound SQL: one event's execution is shared by
 * every subscriber of an audience (shared-subscriptions.ts), so no one subscriber may cancel it.
 *
 * Must come before the plugins that read the errors of a result (logs, metrics): their
 * `onExecuteDone` runs after this one's only when they are listed after it.
 */
export function useRequestDeadline(options: { readonly timeoutMs: number; readonly logger: Logger }): Plugin<Record<string, unknown>> {
  const { timeoutMs, logger } = options;
  const deadlines = new WeakMap<object, AbortSignal>();
  return {
    instrumentation: {
      execute: ({ context }, wrapped) => {
        const holder = context as { op?: OpContext };
        const op = holder.op;
        if (!op) return wrapped();
        const deadline = AbortSignal.timeout(timeoutMs);
        const signal = AbortSignal.any([op.signal, deadline]);
        // The context object is the execution's contextValue: resolvers read this op.
        holder.op = { ...op, signal };
        deadlines.set(holder, deadline);
        return runWithStatementSignal(signal, wrapped);
      },
    },
    onExecute({ args }) {
      const deadline = deadlines.get(args.contextValue as object);
      const op = (args.contextValue as { op?: OpContext }).op;
      if (!deadline || !op) return undefined;
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result) || !op.signal.aborted || !result.errors?.length) return;
          const late = deadline.aborted;
          let replaced = 0;
          // Only what would be masked: an error without a code is the abort's consequence.
          const errors = result.errors.map((error) => {
            if (error.extensions?.['code'] !== undefined) return error;
            replaced += 1;
            return late ? timedOut(timeoutMs, error) : clientClosed(error);
          });
          if (replaced === 0) return;
          logger.warn({ timeoutMs, errors: replaced, reason: late ? 'deadline' : 'client closed' }, late ? 'operation stopped at its deadline' : 'operation stopped: its client went away');
          setResult({ ...result, errors } as ExecutionResult);
        },
      };
    },
  };
}
