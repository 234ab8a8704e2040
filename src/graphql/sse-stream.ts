// Subscriptions over SSE: events carry `id: <cursor>`, streams end with their token and are handed off at shutdown (ADR 0012).
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

/** `extensions.code` of the last event of an SSE stream ended because its access token expired. */
export const TOKEN_EXPIRED = 'TOKEN_EXPIRED';

/** Comment line sent while a stream is quiet, so proxies and clients keep it open: yoga's SSE interval (12 s). */
const PING_INTERVAL_MS = 12_000;
/** Longest timer Node accepts (ms); a token valid longer is re-armed, never fired early. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const encoder = new TextEncoder();
const PING = encoder.encode(':\n\n');
const COMPLETE = encoder.encode('event: complete\ndata:\n\n');
/** Headers of yoga's own SSE responses (graphql-yoga result-processor/sse.js). */
const HEADERS = { 'content-type': 'text/event-stream', connection: 'keep-alive', 'cache-control': 'no-cache', 'content-encoding': 'none' } as const;

/** When each authenticated request's token stops being accepted (epoch ms), set by the context factory. */
const tokenExpiries = new WeakMap<Request, number>();

/**
 * Records when `request`'s access token stops being accepted (the verifier's `validUntil`, which
 * includes its clock tolerance), so that an SSE stream answering it ends then. Called by the
 * context factory for every request authenticated by a token.
 */
export function endStreamsAtTokenExpiry(request: Request, validUntil: Date): void {
  tokenExpiries.set(request, validUntil.getTime());
}

/** The instance's shutdown: SSE streams are handed off to another instance rather than completed. */
export interface SseShutdown {
  /** Aborted when shutdown begins. */
  readonly signal: AbortSignal;
  /** Each stream's client is told to reconnect after a delay drawn uniformly from [0, this) ms (SHUTDOWN_RECONNECT_SPREAD_MS). */
  readonly reconnectSpreadMs: number;
}

/** What a stream remembers of the last event it wrote: the resume point of its final event. */
interface ResumePoint {
  cursor?: string;
  version?: number;
}

/**
 * Writes SSE subscriptions (GraphQL over SSE, distinct connections mode: graphql-sse's client,
 * GraphiQL, `fetch` or EventSource with `accept: text/event-stream`) in yoga's format plus:
 * - **`id: <cursor>`** on every event whose result carries `extensions.cursor` (added by
 *   src/graphql/shared-subscriptions.ts), so a client that reconnects with `Last-Event-ID`
 *   resumes right after the last event it received (src/graphql/sse-resume.ts); events without a
 *   cursor have no `id:` and leave the client's last event id as it was.
 * - **The end at token expiry**: a stream answering a request authenticated by a token (see
 *   {@link endStreamsAtTokenExpiry}) ends when the token stops being accepted, as a graphql-ws
 *   socket is closed then, with one last `next` event whose payload is
 *   `{ errors: [{ message, extensions: { code: 'TOKEN_EXPIRED', cursor?, version? } }] }` (the
 *   resume point of the last event written, as in graphql-ws close reasons) and then `complete`.
 *   A `next` with errors is what graphql-sse's client and GraphiQL hand to the application as a
 *   result; `complete` ends the subscription without a retry, which with the expired token would
 *   only get 401s. The client signs in again and subscribes with `after: cursor` (or reconnects
 *   with `Last-Event-ID`).
 * - **A hand-off at shutdown** (`shutdown`): each open stream gets `retry: <ms>` (the SSE field that
 *   sets EventSource's reconnection delay; a random share of the spread, as graphql-ws sockets get
 *   1012 with `reconnectInMs`) and ends *without* `complete`. EventSource reconnects after that delay
 *   with `Last-Event-ID`; graphql-sse's client sees a stream that ended early, which it retries
 *   (`retryAttempts`, `retry`), where `complete` would end its subscription for good.
 *
 * Each result is serialised and encoded once and the same bytes are written to every stream it
 * goes to: subscribers of one (document, variables, audience) share one result object. Only
 * subscription streams are taken over; single results (a refusal, an error before the stream
 * started) keep yoga's own processor. graphql-sse's single connection mode is refused before
 * this (src/graphql/sse-modes.ts). Must come after yoga's result processors (any user plugin does).
 */
export function useSseResumableStreams(shutdown?: SseShutdown): Plugin<Record<string, unknown>> {
  const subscriptionRequests = new WeakSet<Request>();
  return {
    onSubscribe: ({ args }) => {
      const request = (args.contextValue as { request?: Request } | undefined)?.request;
      if (request) subscriptionRequests.add(request);
    },
    onResultProcess: ({ request, result, resultProcessor, setResultProcessor }) => {
      // For a subscription's stream yoga offers only its SSE processor: one is set, it is that one.
      if (!resultProcessor || !isAsyncIterable(result) || !subscriptionRequests.has(request)) return;
      const expiresAt = tokenExpiries.get(request);
      setResultProcessor((stream, fetchAPI) => {
        const source = new SseSource((stream as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator](), expiresAt, shutdown);
        return new fetchAPI.Response(new fetchAPI.ReadableStream(source), { status: 200, headers: HEADERS });
      }, 'text/event-stream');
    },
  };
}

/**
 * One SSE stream: pulls the next result only when the previous one was taken (backpressure, as
 * yoga's), pings while quiet, ends at token expiry, hands off at shutdown. Every way it ends
 * (complete, error, client gone, expiry, shutdown) releases its timers and shutdown listener.
 */
class SseSource implements UnderlyingDefaultSource<Uint8Array> {
  readonly #results: AsyncIterator<ExecutionResult>;
  readonly #expiresAt: number | undefined;
  readonly #shutdown: SseShutdown | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #ping: NodeJS.Timeout | undefined;
  #expiry: NodeJS.Timeout | undefined;
  #ended = false;
  readonly #last: ResumePoint = {};

  constructor(results: AsyncIterator<ExecutionResult>, expiresAt: number | undefined, shutdown: SseShutdown | undefined) {
    this.#results = results;
    this.#expiresAt = expiresAt;
    this.#shutdown = shutdown;
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
    // Some clients see no response until the first bytes arrive (yoga starts with a ping too).
    controller.enqueue(PING);
    this.#ping = setInterval(() => {
      if (controller.desiredSize !== null && controller.desiredSize > 0) controller.enqueue(PING);
    }, PING_INTERVAL_MS);
    if (this.#expiresAt !== undefined) this.#armExpiry();
    if (this.#shutdown?.signal.aborted) this.#handOff();
    else this.#shutdown?.signal.addEventListener('abort', this.#handOff);
  }

  pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    return this.#results.next().then(
      ({ value, done }) => {
        if (this.#ended) return;
        if (value != null) {
          this.#remember(value);
          controller.enqueue(encodedEvent(value));
        }
        if (done) this.#end(COMPLETE);
      },
      (error: unknown) => {
        if (this.#ended) return;
        this.#release();
        controller.error(error);
      },
    );
  }

  cancel(reason: unknown): Promise<void> | void {
    if (this.#ended) return;
    this.#release();
    return this.#results.return?.(reason).then(() => undefined, () => undefined);
  }

  #armExpiry(): void {
    const msLeft = this.#expiresAt! - Date.now();
    this.#expiry = msLeft > MAX_TIMER_MS ? setTimeout(() => this.#armExpiry(), MAX_TIMER_MS) : setTimeout(() => this.#expire(), Math.max(0, msLeft));
  }

  /** The token has expired: the final event, `complete`, and the subscription let go. */
  #expire(): void {
    if (this.#ended) return;
    this.#end(encoder.encode(tokenExpiredEvent(this.#last)));
    void this.#results.return?.().catch(() => undefined);
  }

  /** Shutdown: the client is told when to reconnect, and the stream ends without `complete`. */
  readonly #handOff = (): void => {
    if (this.#ended) return;
    this.#release();
    const reconnectInMs = Math.floor(Math.random() * this.#shutdown!.reconnectSpreadMs);
    this.#controller!.enqueue(encoder.encode(`retry: ${reconnectInMs}\n\n`));
    this.#controller!.close();
    void this.#results.return?.().catch(() => undefined);
  };

  #end(...chunks: Uint8Array[]): void {
    const controller = this.#controller!;
    this.#release();
    for (const chunk of chunks) controller.enqueue(chunk);
    if (chunks.at(-1) !== COMPLETE) controller.enqueue(COMPLETE);
    controller.close();
  }

  #remember(result: ExecutionResult): void {
    const { cursor, version } = (result.extensions ?? {}) as { cursor?: unknown; version?: unknown };
    if (typeof cursor === 'string') this.#last.cursor = cursor;
    if (typeof version === 'number') this.#last.version = version;
  }

  /** Marks the stream ended and lets go of what kept it going. */
  #release(): void {
    this.#ended = true;
    clearInterval(this.#ping);
    clearTimeout(this.#expiry);
    this.#shutdown?.signal.removeEventListener('abort', this.#handOff);
  }
}

/** The final event of a stream whose token expired (see {@link useSseResumableStreams}). */
function tokenExpiredEvent(last: ResumePoint): string {
  const error = {
    message: 'The access token expired: sign in again, then subscribe again from the last cursor received',
    extensions: { code: TOKEN_EXPIRED, ...last },
  };
  return `event: next\ndata: ${JSON.stringify({ errors: [error] })}\n\n`;
}

/** Encoded events by result object: one serialisation for all the streams that share a result. */
const encodedEvents = new WeakMap<object, Uint8Array>();

/** The `next` event of a result: `id: <extensions.cursor>` when it has one (an SSE id may not hold a line break or NUL). */
function encodedEvent(result: ExecutionResult): Uint8Array {
  let bytes = encodedEvents.get(result);
  if (bytes === undefined) {
    const cursor = result.extensions?.['cursor'];
    const id = typeof cursor === 'string' && !/[\r\n\0]/.test(cursor) ? `id: ${cursor}\n` : '';
    bytes = encoder.encode(`event: next\n${id}data: ${stringifyResult(result)}\n\n`);
    encodedEvents.set(result, bytes);
  }
  return bytes;
}

/**
 * A result as yoga's SSE processor writes it: without the `http` extensions (status and headers
 * meant for the response) of the result and its errors, nor an error's `unexpected` flag
 * (graphql-yoga result-processor/stringify.js), with the result's own `stringify` when it has one.
 */
function stringifyResult(result: ExecutionResult): string {
  const stringify = (result as { stringify?: (value: unknown) => string }).stringify ?? JSON.stringify;
  if (!result.errors?.length && result.extensions?.['http'] === undefined) return stringify(result);
  const { http: _http, ...extensions } = result.extensions ?? {};
  return stringify({
    ...result,
    errors: result.errors?.map((error) => {
      const json = typeof error.toJSON === 'function' ? error.toJSON() : error;
      const { http: _h, unexpected: _u, ...rest } = (json.extensions ?? {}) as Record<string, unknown>;
      return { ...json, extensions: Object.keys(rest).length > 0 ? rest : undefined };
    }),
    extensions: Object.keys(extensions).length > 0 ? extensions : undefined,
  });
}
