import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import type { TraceCarrier } from '../op-context.ts';
import { getOperationAST, type DocumentNode, type GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

// Tracers come from the global provider the SDK registered (or the API's no-op one when tracing is
// off), so this glue costs next to nothing without the SDK.
const graphqlTracer = () => trace.getTracer('ordergraph.graphql');
const useCaseTracer = () => trace.getTracer('ordergraph.use-cases');
const pubsubTracer = () => trace.getTracer('ordergraph.pubsub');

/** Type and name of the operation a document runs (`name` undefined for an anonymous one). */
function describeOperation(document: DocumentNode, operationName: string | null | undefined): { type: string; name: string | undefined } {
  const operation = getOperationAST(document, operationName ?? undefined);
  return { type: operation?.operation ?? 'query', name: operation?.name?.value ?? operationName ?? undefined };
}

function startOperationSpan(document: DocumentNode, operationName: string | null | undefined): Span {
  const { type, name } = describeOperation(document, operationName);
  // Semantic conventions: "{type} {name}", or "{type}" alone for anonymous operations.
  return graphqlTracer().startSpan(name ? `${type} ${name}` : type, {
    attributes: { 'graphql.operation.type': type, ...(name ? { 'graphql.operation.name': name } : {}) },
  });
}

function endWithErrors(span: Span, errors: readonly GraphQLError[] | undefined): void {
  if (errors?.length) {
    const codes = [...new Set(errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))];
    span.setAttribute('graphql.error.codes', codes);
    span.setStatus({ code: SpanStatusCode.ERROR, message: codes.join(', ') });
  }
  span.end();
}

/**
 * One span per GraphQL operation, named by its type and name (`mutation PlaceOrder`), child of the
 * HTTP server span, and parent of the use-case and SQL spans made while it executes. For a
 * subscription the span covers setting the stream up. No span per resolver: that costs up to −87 %
 * throughput in published measurements, for little insight (docs/adr/0005).
 */
export function useOperationSpans(): Plugin<Record<string, unknown>> {
  return {
    onExecute: ({ args, executeFn, setExecuteFn }) => {
      const span = startOperationSpan(args.document, args.operationName);
      const active = trace.setSpan(context.active(), span);
      carryTraceContext(args.contextValue, active);
      setExecuteFn((execArgs) => context.with(active, () => executeFn(execArgs)));
      return {
        onExecuteDone: ({ result }) => {
          if (isAsyncIterable(result)) span.end();
          else endWithErrors(span, result.errors);
        },
      };
    },
    onSubscribe: ({ args, subscribeFn, setSubscribeFn }) => {
      let span: Span | undefined = startOperationSpan(args.document, args.operationName);
      let active: Context | undefined = trace.setSpan(context.active(), span);
      setSubscribeFn((subscribeArgs) => context.with(active!, () => subscribeFn(subscribeArgs)));
      // No onSubscribeError: envelop calls it for errors of the stream, after this span has ended,
      // and wraps every stream in one more iterator to catch them.
      return {
        onSubscribeResult: ({ result }) => {
          if (isAsyncIterable(result)) span!.end();
          else endWithErrors(span!, result.errors);
          // envelop keeps this hook for the stream's life: the ended span and its context would stay
          // with every idle subscribed socket (~1 KB heap each, issue 14).
          span = active = undefined;
        },
      };
    },
  };
}

/** Puts the operation span's W3C Trace Context on the operation context (`op.trace`), when it has a carrier. */
function carryTraceContext(contextValue: unknown, active: Context): void {
  const carrier = (contextValue as { op?: { trace?: TraceCarrier } } | undefined)?.op?.trace;
  if (carrier) propagation.inject(active, carrier);
}

/** An expected failure returned as a value (`Result` with `ok: false` and a coded error). */
function failureCode(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || (value as { ok?: unknown }).ok !== false) return undefined;
  const code = (value as { error?: { code?: unknown } }).error?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/** One traced use case: a span named `spanName` around each call of `run`. */
function traceUseCase(spanName: string, run: (...args: unknown[]) => unknown, onFailure: ((useCase: string, code: string) => void) | undefined) {
  return (...args: unknown[]) =>
    useCaseTracer().startActiveSpan(spanName, (span) => {
      const settle = (result: unknown) => {
        const code = failureCode(result);
        if (code) {
          span.setAttribute('app.error.code', code);
          onFailure?.(spanName, code);
        }
        span.end();
        return result;
      };
      const fail = (error: unknown) => {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        throw error;
      };
      try {
        const result = run(...args);
        return result instanceof Promise ? result.then(settle, fail) : settle(result);
      } catch (error) {
        return fail(error);
      }
    });
}

/** Where a traced module API keeps the API it wraps, and the wrappers made so far. */
const UNTRACED = Symbol('untraced');
const WRAPPED = Symbol('wrapped');

interface TracedApi {
  readonly [UNTRACED]: Record<string, unknown>;
  readonly [WRAPPED]: Record<string, unknown>;
}

type FailureObserver = (useCase: string, code: string) => void;

/** Per failure observer (one per application), per module name: the prototype whose getters wrap that module's use cases. */
const tracedPrototypes = new WeakMap<FailureObserver, Map<string, object>>();
const unobserved: FailureObserver = () => {};

function tracedPrototype(module: string, useCases: object, onFailure: FailureObserver = unobserved): object {
  let byModule = tracedPrototypes.get(onFailure);
  if (!byModule) tracedPrototypes.set(onFailure, (byModule = new Map()));
  const known = byModule.get(module);
  // Built once per module: its API has the same members in every scope.
  if (known) return known;
  const prototype = {};
  for (const key of Object.keys(useCases)) {
    Object.defineProperty(prototype, key, {
      enumerable: true,
      // First read in a scope wraps; later reads find the wrapper (no property redefinition per
      // scope: that costs microseconds and slows the object down).
      get(this: TracedApi) {
        const wrapped = this[WRAPPED];
        if (key in wrapped) return wrapped[key];
        const value = this[UNTRACED][key];
        return (wrapped[key] = typeof value === 'function' ? traceUseCase(`${module}.${key}`, value as (...args: unknown[]) => unknown, onFailure) : value);
      },
    });
  }
  byModule.set(module, prototype);
  return prototype;
}

/**
 * A module API with every use case wrapped in a span named `<module>.<useCase>`, expected failures
 * (errors as data) reported to `onFailure`: a decorator applied once when a scope first builds the
 * module's API. Use cases are called once per operation or per DataLoader batch, never per
 * resolved field, so this stays cheap. Thrown errors mark the span as failed and are rethrown
 * unchanged. The wrappers are getters on one prototype per module, made on first read: a
 * subscription's scope holds its API for its whole life and calls one use case of it (issue 6:
 * memory per subscribed socket).
 */
export function traceUseCases<T extends object>(module: string, useCases: T, onFailure?: (useCase: string, code: string) => void): T {
  const traced = Object.create(tracedPrototype(module, useCases, onFailure)) as { [UNTRACED]: T; [WRAPPED]: Record<string, unknown> };
  traced[UNTRACED] = useCases;
  traced[WRAPPED] = {};
  return traced as unknown as T;
}

/**
 * Wraps a pub/sub EventTarget (in-process or Redis) so that each delivery of an event to a
 * subscriber's listener runs in its own CONSUMER span, linked to the span whose W3C `traceparent`
 * the event's `detail` carries (the mutation that made the change; see `activeTraceparent`).
 * A link, not a parent: one publish fans out to many subscribers, each with its own trace.
 * `onArrival` sees each event once per instance, however many listeners it reaches.
 */
export function traceDeliveries(
  target: EventTarget,
  options: { readonly system: string; readonly attributes?: (detail: unknown) => Attributes; readonly onArrival?: (detail: unknown) => void },
): EventTarget {
  const wrappers = new Map<string, WeakMap<object, EventListener>>();
  const seen = new WeakSet<Event>();
  return {
    dispatchEvent: (event) => target.dispatchEvent(event),
    addEventListener(type, listener, listenerOptions) {
      if (!listener) return;
      const deliver: EventListener = (event) => {
        const detail = (event as CustomEvent<unknown>).detail;
        if (!seen.has(event)) {
          seen.add(event);
          options.onArrival?.(detail);
        }
        const traceparent = (detail as { traceparent?: unknown } | null)?.traceparent;
        const producer = typeof traceparent === 'string' ? trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent })) : undefined;
        const span = pubsubTracer().startSpan(
          `${type} deliver`,
          {
            kind: SpanKind.CONSUMER,
            links: producer ? [{ context: producer }] : [],
            attributes: { 'messaging.system': options.system, 'messaging.destination.name': type, 'messaging.operation.type': 'process', ...options.attributes?.(detail) },
          },
          ROOT_CONTEXT,
        );
        try {
          context.with(trace.setSpan(ROOT_CONTEXT, span), () => (typeof listener === 'function' ? listener(event) : listener.handleEvent(event)));
        } finally {
          span.end();
        }
      };
      let byListener = wrappers.get(type);
      if (!byListener) wrappers.set(type, (byListener = new WeakMap()));
      byListener.set(listener, deliver);
      target.addEventListener(type, deliver, listenerOptions);
    },
    removeEventListener(type, listener, listenerOptions) {
      if (!listener) return;
      const deliver = wrappers.get(type)?.get(listener);
      if (!deliver) return;
      wrappers.get(type)?.delete(listener);
      target.removeEventListener(type, deliver, listenerOptions);
    },
  };
}
