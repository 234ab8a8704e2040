import { createSourceEventStream, execute, Kind, visit, type ASTNode, type DocumentNode, type OperationDefinitionNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { releaseSubscriptionContext } from './context.ts';
import { maskResult, maskStreamError, type MaskError } from './security/index.ts';

/**
 * Executes each subscription event once per distinct (document, operation name, variables,
 * `audience` of the context) instead of once per subscriber, and hands every subscriber of that
 * key the same result. One order status change fans out to thousands of sockets that mostly run
 * the same document for viewers who may see the same data; executing it for each of them cost a
 * full execution and a database read per socket per event (issue 6).
 *
 * Sharing needs the event streams to yield one object per published event (results are cached
 * per event object, so an event that is not shared — a replay from history — simply runs alone).
 * A shared result with errors is not reused: those subscribers execute the event themselves, so
 * an error that belongs to one subscription (its signal aborted mid-read) never reaches another.
 *
 * Each execution starts from a context released of what earlier ones built (EntityManager fork,
 * DataLoaders: see releaseSubscriptionContext) and releases it again once settled: one context
 * serves every event of its subscription, and a loader kept from one event served its stale rows
 * to the next (issue 15); released after, an idle socket keeps none of them. Executions on one
 * context do not overlap (a subscriber pulls its next event once it has the last one).
 *
 * Every result whose root event carries a resume point gets it as `extensions.cursor` (and
 * `extensions.version`), also when sharing is off (see withResumeExtensions).
 *
 * With `mask`, unexpected errors of each result are masked where it is built (once per execution,
 * not per subscriber) and those a stream throws where it is read, in place of yoga's per-subscriber
 * masking iterators (see useMaskedSubscriptions, which masks the rest).
 *
 * Must come before any plugin that wraps the subscribe function (tracing), which then wraps this one.
 * @param audience who the context's data is visible to: two contexts with the same audience must
 * resolve every subscription field identically; undefined turns sharing off for that subscription.
 * @param mask yoga's masking of one error (security/masking.ts); undefined: errors go unmasked.
 */
export function useSharedSubscriptionEvents(audience: (context: unknown) => string | undefined, mask?: MaskError): Plugin<Record<string, unknown>> {
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  const results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();

  const subscribe = async (args: ExecutionArgs, key: string | undefined) => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const own = (event: unknown) => finishResult(executeFresh(args, event), event, mask);
    return mapEvents(source, mask, (event) => {
      if (key === undefined || typeof event !== 'object' || event === null) return own(event);
      let byKey = results.get(event);
      if (!byKey) results.set(event, (byKey = new Map()));
      const shared = byKey.get(key);
      if (shared === undefined) {
        const result = own(event);
        byKey.set(key, result);
        // Once settled, later subscribers take the result as is, without a promise hop each.
        if (isPromise(result)) void result.then((value) => byKey.get(key) === result && byKey.set(key, value), () => byKey.delete(key));
        return result;
      }
      if (isPromise(shared)) return shared.then((result) => (result.errors ? own(event) : result));
      return shared.errors ? own(event) : shared;
    });
  };

  return {
    onSubscribe: ({ args, setSubscribeFn }) => {
      const who = audience(args.contextValue);
      if (who === undefined) {
        setSubscribeFn((subscribeArgs) => subscribe(subscribeArgs as ExecutionArgs, undefined));
        return;
      }
      let documentId = documentIds.get(args.document);
      if (documentId === undefined) documentIds.set(args.document, (documentId = (nextDocumentId += 1)));
      const key = `${documentId}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(resultVariables(args.document, args.operationName, args.variableValues))}\u0000${who}`;
      setSubscribeFn((subscribeArgs) => subscribe(subscribeArgs as ExecutionArgs, key));
    },
  };
}

/** Executes `event` with a freshly released context, released again once the execution settles. */
function executeFresh(args: ExecutionArgs, event: unknown): ExecutionResult | Promise<ExecutionResult> {
  const context = args.contextValue;
  if (typeof context !== 'object' || context === null) return execute({ ...args, rootValue: event });
  const release = () => releaseSubscriptionContext(context);
  release();
  let result;
  try {
    result = execute({ ...args, rootValue: event });
  } catch (error) {
    release();
    throw error;
  }
  if (isPromise(result)) return result.finally(release);
  release();
  return result;
}

/** Per document and operation name: the variables an event's result can depend on (see resultVariables). */
const variablesByOperation = new WeakMap<DocumentNode, Map<string, readonly string[]>>();

/**
 * The variables of `variables` that can change what an event resolves to: every variable the
 * operation uses except those used only in the root subscription field's arguments. Those say
 * where a stream starts and which events it gets (`after`, `afterVersion`, `snapshot`, `orderId`),
 * not how an event resolves: the root field's resolver returns the event itself. Keying on them
 * made every resumed subscription (each with its own `after`) execute every event alone (issue
 * 14's chaos run: all-orders clients lagged seconds behind after each resume).
 */
function resultVariables(document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): Record<string, unknown> {
  if (!variables) return {};
  let byName = variablesByOperation.get(document);
  if (!byName) variablesByOperation.set(document, (byName = new Map()));
  let names = byName.get(operationName ?? '');
  if (!names) {
    const used = new Set<string>();
    const collect = (node: ASTNode) =>
      visit(node, {
        Variable: (variable) => void used.add(variable.name.value),
      });
    const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (operationName == null || d.name?.value === operationName));
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) collect(definition);
    }
    for (const directive of operation?.directives ?? []) collect(directive);
    for (const selection of operation?.selectionSet.selections ?? []) {
      if (selection.kind !== Kind.FIELD) {
        collect(selection); // a root fragment: kept whole (less sharing, never a wrong one)
        continue;
      }
      for (const directive of selection.directives ?? []) collect(directive);
      if (selection.selectionSet) collect(selection.selectionSet);
    }
    names = [...used];
    byName.set(operationName ?? '', names);
  }
  return Object.fromEntries(names.filter((name) => name in variables).map((name) => [name, variables[name]]));
}

/**
 * The result with its errors masked (with `mask`), and with `extensions.cursor` (and
 * `extensions.version`) of its root event when the event has them (an order status change: see
 * the orders module's watchOrderStatus), so transports can name the resume point without knowing
 * the document: WebSocket close reasons, SSE `id:` lines. Built once per execution, i.e. once per
 * shared event and audience, never per socket.
 */
function finishResult(result: ExecutionResult | Promise<ExecutionResult>, event: unknown, mask: MaskError | undefined): ExecutionResult | Promise<ExecutionResult> {
  const { cursor, version } = (event ?? {}) as { cursor?: unknown; version?: unknown };
  const resumable = typeof cursor === 'string' || typeof version === 'number';
  if (!resumable && !mask) return result;
  const resume = resumable ? { ...(typeof cursor === 'string' ? { cursor } : {}), ...(typeof version === 'number' ? { version } : {}) } : undefined;
  const finish = (done: ExecutionResult): ExecutionResult => {
    const masked = mask ? maskResult(done, mask) : done;
    return resume ? { ...masked, extensions: { ...masked.extensions, ...resume } } : masked;
  };
  return isPromise(result) ? result.then(finish) : finish(result);
}

/**
 * `source` with `map` applied to each value, and an error it throws masked with `mask`, in the same
 * promise reaction (no iterator more per subscriber for masking); `return()` reaches the source at
 * once. Kept over yoga's `map` (a Repeater and an async loop per stream; issue 13, measured): +1.7
 * KB heap per subscription and, at 10,000 subscribers, the in-process fan-out of one event 22 → 113 ms.
 */
function mapEvents<T, R>(source: AsyncIterable<T>, mask: MaskError | undefined, map: (value: T) => R | Promise<R>): AsyncIterableIterator<R> {
  const iterator = source[Symbol.asyncIterator]();
  const failed = mask
    ? (error: unknown): never => {
        throw maskStreamError(error, mask);
      }
    : (error: unknown): never => {
        throw error;
      };
  const mapNext = (next: IteratorResult<T>): IteratorResult<R> | Promise<IteratorResult<R>> => {
    if (next.done) return { done: true, value: undefined };
    let mapped;
    try {
      mapped = map(next.value);
    } catch (error) {
      return failed(error);
    }
    return isPromise(mapped) ? mapped.then((value) => ({ done: false, value }), failed) : { done: false, value: mapped };
  };
  return {
    next: () => iterator.next().then(mapNext, failed),
    return: async () => {
      await iterator.return?.();
      return { done: true, value: undefined };
    },
    throw: async (error?: unknown) => {
      await iterator.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as { then?: unknown } | null)?.then === 'function';
