import { AsyncLocalStorage } from 'node:async_hooks';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { getOperationAST } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.ts';
import { viewerCustomerId, type OpContext } from '../op-context.ts';
import { errorCodeOf, resultErrors } from './error-codes.ts';

/** Correlation fields that every log line written while serving one request carries. */
interface RequestFields {
  requestId: string;
  operationName?: string;
  customerId?: string;
}

/**
 * Correlation for logs: while a request is served, every pino line (from any module, through the
 * one app logger) gets the request id, the GraphQL operation name, the signed-in customer id, and
 * the active span's trace and span ids. Request-scoped state lives in an AsyncLocalStorage owned
 * by this object (created per app by createApp), so nothing has to thread a child logger through
 * every use case.
 */
export interface LogContext {
  /** pino `mixin`: the fields above for the current async context. */
  mixin(): Record<string, unknown>;
  /**
   * The yoga plugin that opens the scope per HTTP request (request id from `requestIdOf`), fills in
   * the operation and customer, and writes one access-log line per query or mutation (`graphql
   * operation`), or per request answered with errors before one ran (`graphql request refused`,
   * or `graphql request failed` for a 5xx): method, status and the errors' codes.
   */
  plugin(options: { readonly logger: Logger; readonly requestIdOf: (request: Request) => string }): Plugin<Record<string, unknown>>;
}

/** Creates the log correlation scope of one application instance. */
export function createLogContext(): LogContext {
  const storage = new AsyncLocalStorage<RequestFields>();

  const mixin = (): Record<string, unknown> => {
    const fields = storage.getStore();
    const span = trace.getActiveSpan()?.spanContext();
    const traced = span && isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : undefined;
    if (!fields) return traced ?? {};
    return { ...fields, ...traced };
  };

  const plugin: LogContext['plugin'] = ({ logger, requestIdOf }) => {
    // HTTP requests that got their `graphql operation` line, and the error codes of those answered
    // without one (written with the status once the response exists).
    const operations = new WeakSet<Request>();
    const refusals = new WeakMap<Request, string[]>();
    const describe = (args: { contextValue: unknown; document: Parameters<typeof getOperationAST>[0]; operationName?: string | null }) => {
      const fields = storage.getStore();
      const operation = getOperationAST(args.document, args.operationName ?? undefined);
      const op = (args.contextValue as { op?: OpContext } | undefined)?.op;
      if (fields) {
        fields.operationName = operation?.name?.value ?? args.operationName ?? undefined;
        const customerId = op ? viewerCustomerId(op.viewer) : undefined;
        if (customerId) fields.customerId = customerId;
      }
      return operation?.operation ?? 'query';
    };
    return {
      instrumentation: {
        request: ({ request }, wrapped) => storage.run({ requestId: requestIdOf(request) }, wrapped),
      },
      onExecute: ({ args }) => {
        const operationType = describe(args);
        const request = (args.contextValue as { request?: Request } | undefined)?.request;
        if (request) operations.add(request);
        const started = performance.now();
        return {
          onExecuteDone: ({ result }) => {
            if (isAsyncIterable(result)) return;
            const codes = result.errors?.map(errorCodeOf);
            logger.info(
              { operationType, durationMs: Math.round((performance.now() - started) * 10) / 10, outcome: codes?.length ? 'error' : 'success', ...(codes?.length ? { errorCodes: codes } : {}) },
              'graphql operation',
            );
          },
        };
      },
      onSubscribe: ({ args }) => {
        describe(args);
      },
      onResultProcess: ({ request, result }) => {
        if (operations.has(request)) return;
        const codes = resultErrors(result).map(errorCodeOf);
        if (codes.length > 0) refusals.set(request, codes);
      },
      onResponse: ({ request, response }) => {
        const codes = refusals.get(request);
        if (!codes) return;
        logger.info(
          { method: request.method, status: response.status, errorCodes: codes },
          response.status < 500 ? 'graphql request refused' : 'graphql request failed',
        );
      },
    };
  };

  return { mixin, plugin };
}
