import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, type YogaInitialContext, type YogaServerInstance } from 'graphql-yoga';
import type { Context, SubscribePayload } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { getOperationAST, getVariableValues } from 'graphql';
import { WebSocketServer } from 'ws';
import type { Logger } from '../platform/logger.ts';
import { anonymous, audienceOf, type OpContext, type Viewer } from '../platform/op-context.ts';
import type { GraphQLContext } from './context.ts';
import { createSharedFrames } from './shared-frames.ts';
import { useSharedSubscriptionEvents } from './shared-subscriptions.ts';
import { createWsLifecycle, type WsLifecycle } from './ws-lifecycle.ts';
import { createGraphiQLPage } from './graphiql.ts';
import { useSseSingleConnectionRefusal } from './sse-modes.ts';
import { endStreamsAtTokenExpiry, useSseResumableStreams, type SseShutdown } from './sse-stream.ts';
import { GraphQLError } from 'graphql';
import { TOKEN_EXPIRED_CLOSE, TOKEN_RENEWAL_REFUSED_CLOSE, createErrorMask, useMaskedSubscriptions, renewalTokenOf, resolveTrustedDocument, sameViewer, tooManySubscriptions, type ClientInfo, type TransportSettings } from './security/index.ts';

/** What yoga receives before our context factory runs: the HTTP request, or the WebSocket's op. */
export interface ServerContext {
  readonly request?: Request;
  /** Set by the graphql-ws path, which authenticates once per socket. */
  readonly op?: OpContext;
  /** Set by the graphql-ws path: the client's address, from the upgrade request. */
  readonly clientAddress?: string;
}

/**
 * Builds the per-operation GraphQL context (a request scope: one lazy `em.fork()`, module APIs
 * built on first use); `client` tells where a request came from (rate limits), absent for internal
 * callers; `target` is yoga's server context, which the scope extends in place.
 */
export type ContextFactory = (op: OpContext, client?: ClientInfo, target?: object) => GraphQLContext;

/**
 * Resolves a bearer token to a viewer and the last instant the token is accepted; undefined for
 * an invalid or expired token.
 */
export type VerifyToken = (token: string) => Promise<{ readonly viewer: Viewer; readonly validUntil: Date } | undefined>;

export interface GraphQLServerOptions {
  readonly schema: GraphQLSchema;
  readonly createContext: ContextFactory;
  readonly verifyToken: VerifyToken;
  readonly graphiql: boolean;
  /** Execute queries and mutations with graphql-jit (compiled once per document; ADR 0008). */
  readonly jit: boolean;
  /** Mask unexpected errors (default true); false only for the benchmark diagnostic DIAGNOSTIC_DISABLE=masking. */
  readonly maskErrors?: boolean;
  readonly logger: Logger;
  /**
   * Extra yoga/envelop plugins, in order (security limits, telemetry, metrics, extra routes such
   * as webhooks or health checks). Each concern lives in its own module and is wired in app.ts.
   */
  readonly plugins?: readonly Plugin<Record<string, unknown>>[];
  /** Body and message size caps, graphql-ws limits, trusted documents, client addresses (src/graphql/security). */
  readonly transport: TransportSettings;
  /** Called once for each graphql-ws socket closed because its client reads too slowly (a metric). */
  readonly onSlowConsumerClose?: () => void;
  /** The instance's shutdown: open SSE streams are then handed off (`retry:` delay, no `complete`; src/graphql/sse-stream.ts). */
  readonly sseShutdown?: SseShutdown;
  /** A request handler put in front of yoga's, which it calls for what it does not answer (the response cache's hit path). */
  readonly front?: (yoga: RequestListener) => RequestListener;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
const requestIds = new WeakMap<Request, string>();

/**
 * The correlation id of an HTTP request: its `x-request-id` header when well-formed (a proxy's or
 * client's), else a fresh UUID; the same value for the whole request (context, logs, and the
 * `x-request-id` response header).
 */
export function requestIdOf(request: Request): string {
  let id = requestIds.get(request);
  if (id === undefined) {
    const given = request.headers.get('x-request-id');
    id = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    requestIds.set(request, id);
  }
  return id;
}

/** {@link requestIdOf} for a request answered before yoga sees it (the same rule: a well-formed header, else a fresh UUID). */
export function requestIdOfNode(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
}

/** Returns the request id to the caller on every response, so a client can quote it. */
const returnRequestId: Plugin<Record<string, unknown>> = {
  onResponse: ({ request, response }) => {
    response.headers.set('x-request-id', requestIdOf(request));
  },
};

/**
 * graphql-jit for queries and mutations (ADR 0008): each validated document is compiled once into
 * a function (cached with the document by yoga's parser cache) instead of being interpreted field
 * by field per request. Subscriptions keep graphql-js: their events are executed once per
 * audience already (see {@link useSharedSubscriptionEvents}). Requests whose variables do not
 * coerce, and documents jit cannot compile (logged once), run on the standard executor. Answers
 * are the same either way (test/e2e/jit-equivalence.test.ts).
 */
function useJit(logger: Logger): Plugin<Record<string, unknown>> {
  return useGraphQlJit(
    {},
    {
      enableIf: (args) => {
        const operation = getOperationAST(args.document, args.operationName ?? undefined);
        if (!operation || operation.operation === 'subscription') return false;
        // Variables that do not coerce are answered by the standard executor, so the client gets
        // its messages and HTTP 400 (jit words them differently and answers 200).
        const coerced = getVariableValues(args.schema, operation.variableDefinitions ?? [], (args.variableValues ?? {}) as Record<string, unknown>);
        return coerced.errors === undefined;
      },
      onError: (result) => logger.error({ errors: result.errors }, 'graphql-jit could not compile a document'),
    },
  ) as Plugin<Record<string, unknown>>;
}

/** `Bearer <token>` → token; undefined when absent or malformed. */
function bearer(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(value.trim());
  return match?.[1];
}

/** The audience of a GraphQL context's viewer (see {@link audienceOf}); undefined when it has none. */
const audienceOfContext = (context: unknown): string | undefined => {
  const op = (context as Partial<GraphQLContext> | undefined)?.op;
  return op ? audienceOf(op.viewer) : undefined;
};

const unauthenticated = () =>
  new GraphQLError('The access token is invalid or expired; sign in again', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });

/**
 * Creates yoga (HTTP, SSE subscriptions and GraphiQL on /graphql) and, on the same port and path,
 * a graphql-ws server whose subscriptions run through yoga's envelop pipeline with the same
 * context. Authentication: `Authorization: Bearer <token>` over HTTP; over graphql-ws
 * `connectionParams.authorization`, checked at connection init (close 4403 when invalid) and
 * renewable in band with a ping (see {@link renewSocketToken}). `handOff` closes a socket for a
 * restart of this instance (src/graphql/ws-lifecycle.ts).
 */
export function createGraphQLServer(options: GraphQLServerOptions): { yoga: Yoga; server: Server; wss: WebSocketServer; handOff: WsLifecycle['handOff'] } {
  const yoga = createYogaServer(options);
  const server = createServer(options.front ? options.front(yoga as RequestListener) : yoga);
  const { wss, handOff } = serveGraphQLOverWebSocket(yoga, server, options);
  return { yoga, server, wss, handOff };
}

type Yoga = YogaServerInstance<ServerContext, GraphQLContext>;

/** yoga with our settings and plugins: queries, mutations and SSE subscriptions over HTTP, GraphiQL. */
function createYogaServer(options: GraphQLServerOptions): Yoga {
  const { logger } = options;
  const graphiql = options.graphiql ? createGraphiQLPage() : undefined;
  // Subscriptions are masked by our plugins, once per shared result (security/masking.ts).
  const mask = options.maskErrors === false ? undefined : createErrorMask(logger);
  return createYoga<ServerContext, GraphQLContext>({
    schema: options.schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // GraphiQL's assets are served from node_modules (works offline), compressed; its subscriptions
    // use SSE with the Headers pane's Authorization (src/graphql/graphiql.ts).
    graphiql: graphiql?.options ?? false,
    ...(graphiql ? { renderGraphiQL: graphiql.render } : {}),
    // Unexpected errors become "Unexpected error." (code INTERNAL_SERVER_ERROR) with no stack;
    // typed GraphQLErrors pass through. Off only under the benchmark diagnostic DIAGNOSTIC_DISABLE=masking.
    maskedErrors: options.maskErrors === false ? false : { isDev: false },
    // Larger bodies get 413 before they are read (MAX_BODY_BYTES, security/body-limit.ts, among
    // the plugins); one operation per request.
    maxRequestBodySize: false,
    batching: false,
    extraParamNames: [...options.transport.extraParamNames],
    parserAndValidationCache: { ...options.transport.parserCache, validationCache: true },
    logging: {
      debug: (...args) => logger.debug({ args }, 'yoga'),
      info: (...args) => logger.info({ args }, 'yoga'),
      warn: (...args) => logger.warn({ args }, 'yoga'),
      error: (...args) => logger.error({ args }, 'yoga'),
    },
    // Shared subscription events before the other plugins, so those that wrap subscribe (tracing) wrap it too.
    // graphql-jit replaces the execute function; it comes before tracing, which wraps it.
    plugins: [
      returnRequestId,
      ...(graphiql ? [graphiql.plugin] : []),
      useSharedSubscriptionEvents(audienceOfContext, mask),
      ...(options.jit ? [useJit(logger)] : []),
      ...(options.plugins ?? []),
      useSseSingleConnectionRefusal('/graphql'),
      // SSE events with `id: <cursor>`, streams ended at token expiry and handed off at shutdown (src/graphql/sse-stream.ts).
      useSseResumableStreams(options.sseShutdown),
      // Last: it ends envelop's subscribe hooks, leaving out yoga's per-subscriber masking iterators.
      ...(mask ? [useMaskedSubscriptions(mask)] : []),
    ] as Plugin<ServerContext & GraphQLContext>[],
    context: (initial) => contextOf(initial, options),
  });
}

/**
 * The context of one operation: over graphql-ws, for the op its socket authenticated at connection
 * init; over HTTP, for the request's bearer token (anonymous without an Authorization header).
 * @throws GraphQLError UNAUTHENTICATED (HTTP 401) when the token is malformed, invalid or expired.
 */
async function contextOf(initial: YogaInitialContext & ServerContext, options: GraphQLServerOptions): Promise<GraphQLContext> {
  if (initial.op) return options.createContext(initial.op, { address: initial.clientAddress ?? 'unknown' }, initial);
  const request = initial.request!;
  const header = request.headers.get('authorization');
  let viewer: Viewer = anonymous;
  if (header) {
    const token = bearer(header);
    const verified = token ? await options.verifyToken(token) : undefined;
    if (!verified) throw unauthenticated();
    viewer = verified.viewer;
    // An SSE subscription lives no longer than its token, as a graphql-ws socket.
    endStreamsAtTokenExpiry(request, verified.validUntil);
  }
  const client = { address: options.transport.clientAddress(initial as Parameters<TransportSettings['clientAddress']>[0]) };
  return options.createContext({ signal: request.signal, viewer, requestId: requestIdOf(request), trace: {} }, client, initial);
}

/** A graphql-ws hook's context on our sockets (`ws`'s socket and upgrade request in `extra`). */
type WsContext = Context<Record<string, unknown> | undefined, Extra & Partial<{ socket: object }>>;

/** What the graphql-ws server keeps per socket, weakly, so that it goes with the socket. */
interface SocketState {
  readonly viewers: WeakMap<object, Viewer>;
  readonly addresses: WeakMap<object, string>;
  readonly expiries: WeakMap<object, NodeJS.Timeout>;
  /** The running subscriptions by operation id, aborted when completed or when the socket closes. */
  readonly subscriptions: WeakMap<object, Map<string, AbortController>>;
}

/** graphql-ws on `server`'s port and yoga's path, executing through yoga's envelop pipeline. */
function serveGraphQLOverWebSocket(yoga: Yoga, server: Server, options: GraphQLServerOptions): { wss: WebSocketServer; handOff: WsLifecycle['handOff'] } {
  const { ws: wsLimits } = options.transport;
  const state: SocketState = { viewers: new WeakMap(), addresses: new WeakMap(), expiries: new WeakMap(), subscriptions: new WeakMap() };
  // Idle sockets closed (4410), sockets per client address capped (429), one log line per protocol
  // error, send buffers bounded (4008 with the resume cursor), hand-off on shutdown (1012).
  const lifecycle = createWsLifecycle({
    ...wsLimits,
    clientAddressOfUpgrade: options.transport.clientAddressOfUpgrade,
    onSlowConsumerClose: options.onSlowConsumerClose,
    logger: options.logger,
  });
  // A message over maxPayload closes the socket with 1009 (Message Too Big); no compression, so
  // a small frame cannot inflate into a large message.
  // Each result's message is serialised once, not once per socket (shared-frames.ts).
  const frames = createSharedFrames();
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: wsLimits.maxMessageBytes, perMessageDeflate: false, WebSocket: frames.socketClass(lifecycle.socketClass) });

  useServer<Record<string, unknown> | undefined, { socket: object }>(
    lifecycle.hooks({
      // The protocol's own limits: ConnectionInit within this time (4408), one ConnectionInit (4429),
      // no Subscribe before the ack (4401), unique operation ids (4409), well-formed messages (4400).
      connectionInitWaitTimeout: wsLimits.connectionInitTimeoutMs,
      onNext: (_ctx, _id, _payload, _args, result) => frames.payloadOf(result),
      jsonMessageReplacer: frames.replacer,
      execute: (args) => (args.rootValue as { execute: (a: unknown) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: unknown) => unknown }).subscribe(args) as never,
      onConnect: (ctx) => authenticateSocket(ctx, state, options),
      // A ping whose payload carries `authorization` renews the socket's token; graphql-ws answers
      // it with a pong once this resolves, unless the socket was closed (4403).
      onPing: (ctx, payload) => renewSocketToken(ctx, payload, state, options),
      onSubscribe: (ctx, id, payload) => startSubscription(ctx, id, payload, state, yoga, options.transport),
      onComplete: (ctx, id) => {
        const perSocket = state.subscriptions.get(ctx.extra.socket);
        perSocket?.get(id)?.abort();
        perSocket?.delete(id);
      },
      onClose: (ctx) => {
        clearTimeout(state.expiries.get(ctx.extra.socket));
        for (const controller of state.subscriptions.get(ctx.extra.socket)?.values() ?? []) controller.abort();
        state.subscriptions.delete(ctx.extra.socket);
      },
    }),
    wss,
  );
  lifecycle.attach(wss, server);
  return { wss, handOff: lifecycle.handOff };
}

/**
 * graphql-ws's ConnectionInit: remembers the socket's client address and viewer (anonymous without
 * `connectionParams.authorization`) and closes the socket when its token expires. False (close
 * 4403) for a malformed, invalid or expired token.
 */
async function authenticateSocket(ctx: WsContext, state: SocketState, options: GraphQLServerOptions): Promise<boolean> {
  state.addresses.set(ctx.extra.socket, options.transport.clientAddressOfUpgrade(ctx.extra.request));
  const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
  // Neither the upgrade request (headers and all) nor the token is read after this point, but
  // graphql-ws keeps both for the socket's life: about 1.5 KB of each idle socket (issue 6).
  (ctx.extra as { request?: unknown }).request = undefined;
  if (ctx.connectionParams) (ctx as { connectionParams?: unknown }).connectionParams = undefined;
  if (raw === undefined) {
    state.viewers.set(ctx.extra.socket, anonymous);
    return true;
  }
  const token = bearer(raw);
  const verified = token ? await options.verifyToken(token) : undefined;
  if (!verified) return false;
  state.viewers.set(ctx.extra.socket, verified.viewer);
  // The socket lives no longer than its token unless the client renews it (renewSocketToken);
  // else it reconnects with a fresh one (4403 is a close code graphql-ws clients retry after).
  state.expiries.set(ctx.extra.socket, closeAtExpiry(ctx.extra.socket as Closable, verified.validUntil));
  return true;
}

/** What the expiry timer needs of a socket. */
type Closable = { close(code: number, reason: string): void };

/** Closes `socket` with {@link TOKEN_EXPIRED_CLOSE} at `validUntil` (one timer, no closure per socket). */
function closeAtExpiry(socket: Closable, validUntil: Date): NodeJS.Timeout {
  const msLeft = Math.min(validUntil.getTime() - Date.now(), 2 ** 31 - 1);
  return setTimeout(closeExpired, Math.max(0, msLeft), socket);
}

/** The expiry timer's callback: `socket`'s token has expired and was not renewed. */
function closeExpired(socket: Closable): void {
  socket.close(TOKEN_EXPIRED_CLOSE.code, TOKEN_EXPIRED_CLOSE.reason);
}

/**
 * graphql-ws's Ping: a ping whose payload is `{ "authorization": "Bearer <JWT>" }` (the same as
 * connection_init's) renews the socket's token before it expires, without dropping the socket or
 * its subscriptions. The token is verified as at connection init and must be for the same viewer
 * (subject and role: running subscriptions were authorized, and share results, as that viewer);
 * then the socket closes at the new token's expiry instead of the old one's, and later operations
 * run as the renewed viewer. Anything else closes the socket with {@link TOKEN_RENEWAL_REFUSED_CLOSE}
 * (4403), as an invalid token at connection init does. A ping without `authorization`, or before
 * the connection is acknowledged, is a plain ping.
 */
async function renewSocketToken(ctx: WsContext, payload: unknown, state: SocketState, options: GraphQLServerOptions): Promise<void> {
  const raw = renewalTokenOf(payload);
  if (raw === undefined || !ctx.acknowledged) return;
  const socket = ctx.extra.socket as Closable & { readonly readyState: number; readonly OPEN: number };
  const token = bearer(raw);
  const verified = token ? await options.verifyToken(token) : undefined;
  if (socket.readyState !== socket.OPEN) return;
  const current = state.viewers.get(socket);
  if (!verified || current === undefined || !sameViewer(current, verified.viewer)) {
    socket.close(TOKEN_RENEWAL_REFUSED_CLOSE.code, TOKEN_RENEWAL_REFUSED_CLOSE.reason);
    return;
  }
  clearTimeout(state.expiries.get(socket));
  state.expiries.set(socket, closeAtExpiry(socket, verified.validUntil));
  state.viewers.set(socket, verified.viewer);
}

/**
 * graphql-ws's Subscribe: checks the per-socket cap and trusted documents, parses and validates
 * through yoga's pipeline, and returns the execution arguments (with a fresh context and an abort
 * signal that onComplete and onClose fire), or the errors to send back instead.
 */
async function startSubscription(ctx: WsContext, id: string, payload: SubscribePayload, state: SocketState, yoga: Yoga, transport: TransportSettings) {
  const { ws: wsLimits, trustedDocuments } = transport;
  // ctx.subscriptions already holds this id: more than the cap means one too many.
  if (Object.keys(ctx.subscriptions).length > wsLimits.maxSubscriptionsPerSocket) return [tooManySubscriptions(wsLimits.maxSubscriptionsPerSocket)];
  let query = payload.query;
  if (trustedDocuments) {
    const trusted = resolveTrustedDocument(trustedDocuments, payload);
    if (trusted instanceof GraphQLError) return [trusted];
    query = trusted;
  }
  const controller = new AbortController();
  let perSocket = state.subscriptions.get(ctx.extra.socket);
  if (!perSocket) state.subscriptions.set(ctx.extra.socket, (perSocket = new Map()));
  perSocket.set(id, controller);
  const op: OpContext = { signal: controller.signal, viewer: state.viewers.get(ctx.extra.socket) ?? anonymous, requestId: crypto.randomUUID(), trace: {} };
  const clientAddress = state.addresses.get(ctx.extra.socket) ?? 'unknown';
  const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ op, clientAddress, params: { ...payload, query } });
  let document;
  let errors: readonly GraphQLError[];
  try {
    document = parse(query);
    // Document limits throw out of validation to stop walking a hostile document at once.
    errors = validate(schema, document);
  } catch (error) {
    return [error instanceof GraphQLError ? error : new GraphQLError('Syntax error')];
  }
  if (errors.length > 0) return [...errors];
  return {
    schema,
    document,
    operationName: payload.operationName ?? null,
    variableValues: payload.variables ?? null,
    contextValue: await contextFactory(),
    rootValue: { execute, subscribe },
  };
}
