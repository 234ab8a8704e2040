import type { IncomingMessage, Server } from 'node:http';
import type { ConnectionInitMessage, ServerOptions } from 'graphql-ws';
import { WebSocket, type WebSocketServer } from 'ws';
import type { Logger } from '../platform/logger.ts';

/**
 * graphql-ws close code of an idle socket. A private code (4000–4999) that graphql-ws does not use
 * and its client does not count as fatal: a client that keeps a socket open without operations
 * (`lazy: false`) reconnects after its retry wait, a lazy one (the default, Apollo's GraphQLWsLink)
 * opens a new socket with its next subscription. 4410 as in HTTP 410 Gone: the server has let
 * the socket go.
 */
export const IDLE_CLOSE_CODE = 4410;

/** The close reason of an idle socket (WebSocket close reasons are at most 123 bytes). */
export const idleCloseReason = (idleMs: number): string => `Idle: no operation for ${idleMs} ms`;

/** HTTP status of an upgrade refused because the client's address holds its share of sockets. */
export const TOO_MANY_SOCKETS_STATUS = 429;

/**
 * graphql-ws close code of a socket whose client reads slower than its events arrive: the bytes
 * written to it and not yet taken by the kernel (`bufferedAmount`) passed WS_SEND_BUFFER_BYTES.
 * A private code that graphql-ws does not use (its server's are 4400–4499 and 4500, its client's
 * 4004, 4005 and 4499) and its client retries; x008 as in 1008, Policy Violation. The reason is a
 * {@link ResumeHint} (JSON): every message written before the close reaches the client ahead of
 * the close frame, so resuming from its cursor loses nothing and repeats nothing.
 */
export const SLOW_CONSUMER_CLOSE_CODE = 4008;

/**
 * Close code of every socket when the instance shuts down (SIGTERM): 1012 Service Restart (IANA
 * WebSocket close code registry), which graphql-ws clients retry. The reason is a
 * {@link ResumeHint} with `reconnectInMs`.
 */
export const SERVICE_RESTART_CLOSE_CODE = 1012;

/** Largest close reason in bytes: a control frame carries 125 bytes, 2 of them the code (RFC 6455 §5.5). */
const MAX_CLOSE_REASON_BYTES = 123;

/**
 * The close reason (JSON, at most 123 bytes) of {@link SLOW_CONSUMER_CLOSE_CODE} and
 * {@link SERVICE_RESTART_CLOSE_CODE}: where the socket's client resumes, and when.
 */
export interface ResumeHint {
  /**
   * `extensions.cursor` of the last result written to the socket: resume the all-orders stream
   * with `after: cursor`. Absent when no result written to it carried one. It is the last cursor
   * the client received on this socket; a client running several subscriptions on one socket
   * resumes each from the last cursor that subscription received.
   */
  readonly cursor?: string;
  /** `extensions.version` of that same result, when it has one (per-order streams): resume with `afterVersion`. */
  readonly version?: number;
  /** Restarts only: ms to wait before reconnecting, drawn uniformly from [0, SHUTDOWN_RECONNECT_SPREAD_MS). */
  readonly reconnectInMs?: number;
}

/**
 * A graphql-ws socket of this server: `ws`'s socket plus the resume position of the results
 * written to it (set by the onNext hook of {@link WsLifecycle.hooks}; two fields, no closures).
 */
export class DeliverySocket extends WebSocket {
  /** `extensions.cursor` of the last result written to this socket, if any carried one. */
  lastCursor: string | undefined = undefined;
  /** `extensions.version` of the same result, if it had one. */
  lastVersion: number | undefined = undefined;
}

/**
 * The close reason of a socket: its {@link ResumeHint} as JSON. A cursor that would not fit the
 * 123 bytes is left out with its version rather than cut (the client then resumes from the last
 * cursor it received; ours are 28 characters).
 */
export function resumeReason(socket: Pick<DeliverySocket, 'lastCursor' | 'lastVersion'>, reconnectInMs?: number): string {
  const hint: { reconnectInMs?: number; cursor?: string; version?: number } = {};
  if (reconnectInMs !== undefined) hint.reconnectInMs = reconnectInMs;
  if (socket.lastCursor !== undefined) hint.cursor = socket.lastCursor;
  if (socket.lastVersion !== undefined) hint.version = socket.lastVersion;
  const reason = JSON.stringify(hint);
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  return JSON.stringify(reconnectInMs === undefined ? {} : { reconnectInMs });
}

type SendCallback = (error?: Error) => void;
type SendOptions = Exclude<Parameters<WebSocket['send']>[1], SendCallback | undefined>;

/**
 * The socket class with a bounded send buffer. graphql-ws awaits each message's write callback
 * before it takes the subscription's next event, so with `ws`'s callback (called once the kernel
 * has the bytes) a stalled client stalled its streams, its events piled up unbounded upstream
 * until keep-alive cut the socket (1006, no resume point). Here the callback comes at once and the
 * bytes wait in `bufferedAmount`, which is bounded: a message written while more than `limitBytes`
 * of earlier ones still wait hands the socket to `overflowed` (it is written, so that the cursor
 * recorded for it stays true). One class per server, no per-socket state beyond
 * {@link DeliverySocket}'s fields.
 */
function boundedSocketClass(limitBytes: number, overflowed: (socket: DeliverySocket) => void): typeof DeliverySocket {
  return class BoundedSocket extends DeliverySocket {
    override send(data: Parameters<WebSocket['send']>[0], optionsOrCallback?: SendOptions | SendCallback, callback?: SendCallback): void {
      const options = typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback;
      const done = typeof optionsOrCallback === 'function' ? optionsOrCallback : callback;
      if (this.readyState !== WebSocket.OPEN) {
        // ws reports the closed socket to the callback, as it would without this class.
        super.send(data, options ?? {}, done);
        return;
      }
      // Bytes of earlier messages still waiting: one large result alone never overflows.
      const waiting = this.bufferedAmount;
      if (options) super.send(data, options);
      else super.send(data);
      if (waiting > limitBytes) overflowed(this);
      done?.();
    }
  };
}

/**
 * Closes overflowed sockets with {@link SLOW_CONSUMER_CLOSE_CODE} once per turn of the event loop.
 * Not at once: graphql-ws's onNext hook runs a microtask before its message is written, so within
 * a turn a socket's recorded cursor may be one whose message is still on its way; once the
 * microtasks have run, every recorded cursor has been written, and the reason is exact.
 */
function slowConsumerCloser(onClose: (() => void) | undefined): (socket: DeliverySocket) => void {
  const overflowed = new Set<DeliverySocket>();
  const closeAll = () => {
    for (const socket of overflowed) {
      if (socket.readyState !== WebSocket.OPEN) continue;
      socket.close(SLOW_CONSUMER_CLOSE_CODE, resumeReason(socket));
      onClose?.();
    }
    overflowed.clear();
  };
  return (socket) => {
    if (overflowed.size === 0) setImmediate(closeAll);
    overflowed.add(socket);
  };
}

/** Records the resume position of a result about to be written to `socket` (its extensions' cursor and version). */
function recordResumePosition(socket: DeliverySocket, result: { readonly extensions?: Record<string, unknown> | undefined }): void {
  const cursor = result.extensions?.cursor;
  if (typeof cursor !== 'string') return;
  const version = result.extensions?.version;
  socket.lastCursor = cursor;
  socket.lastVersion = typeof version === 'number' ? version : undefined;
}

export interface WsLifecycleOptions {
  /**
   * A socket running no operation for this many ms is closed with {@link IDLE_CLOSE_CODE}
   * (WS_ANONYMOUS_IDLE_MS). Counted from its connection_init, and again from the end of its last
   * operation; a socket with a running operation (a subscription, a query in flight) is never idle.
   * Checked every tenth of it (at most every second), so a socket goes at most that much later.
   */
  readonly idleMs: number;
  /** Sockets (handshake to TCP close) one client address may hold (WS_MAX_SOCKETS_PER_ADDRESS). */
  readonly maxSocketsPerAddress: number;
  /** The client's address of an upgrade request (the same as for rate limits: TRUST_PROXY_HOPS). */
  readonly clientAddressOfUpgrade: (request: IncomingMessage) => string;
  /**
   * Bytes written to a socket and not yet taken by the kernel (`bufferedAmount`) past which it is
   * closed with {@link SLOW_CONSUMER_CLOSE_CODE} (WS_SEND_BUFFER_BYTES): when a message is written
   * while more than this still waits from earlier ones, so one large result alone never closes a
   * socket. What waits stays under this plus the messages of one turn of the event loop.
   */
  readonly sendBufferBytes: number;
  /** Called once for each socket closed with {@link SLOW_CONSUMER_CLOSE_CODE} (a metric counts them). */
  readonly onSlowConsumerClose?: (() => void) | undefined;
  readonly logger: Logger;
}

/** What {@link createWsLifecycle} gives the graphql-ws server. */
export interface WsLifecycle {
  /**
   * The class the WebSocket server makes its sockets with (`ws`'s `WebSocket` option): a bounded
   * send buffer, and the resume position of what was written.
   */
  readonly socketClass: typeof DeliverySocket;
  /**
   * Wraps graphql-ws's server options so that idle sockets are closed and each socket knows the
   * cursor of the last result written to it; the hooks given still run, unchanged.
   */
  hooks<P extends ConnectionInitMessage['payload'], E>(options: ServerOptions<P, E>): ServerOptions<P, E>;
  /**
   * Closes `socket` for a restart of this instance: {@link SERVICE_RESTART_CLOSE_CODE}, the reason
   * a {@link ResumeHint} with `reconnectInMs`. Call it where no microtask of the event loop's
   * current turn is pending (see {@link slowConsumerCloser}), so the reason's cursor is exact.
   */
  handOff(socket: WebSocket, reconnectInMs: number): void;
  /**
   * Installs, after graphql-ws's `useServer`, the per-address cap (HTTP 429 before the handshake)
   * and this server's error handling in place of graphql-ws's (which prints stack traces to stderr
   * and closes every socket with 1011 on an HTTP server error): a protocol error of one socket
   * (oversized message, invalid frame) is one warning line, an HTTP server error once listening is
   * one error line, and a failure to listen is left to the one who starts the server.
   */
  attach(wss: WebSocketServer, server: Server): void;
}

/**
 * Lifecycle rules of graphql-ws sockets beyond the protocol's own: idle sockets are closed, and
 * each client address holds a bounded number of sockets (issue 10, item 7; docs/security.md); a
 * socket's unsent bytes are bounded, past them it is closed with its resume cursor, and a
 * shutdown hands every socket off with a reconnect delay and its resume cursor (issue 14).
 */
export function createWsLifecycle(options: WsLifecycleOptions): WsLifecycle {
  const { idleMs } = options;
  const socketClass = boundedSocketClass(options.sendBufferBytes, slowConsumerCloser(options.onSlowConsumerClose));
  const reason = idleCloseReason(idleMs);
  // Per acknowledged socket: graphql-ws's record of its running operations (from a subscribe
  // message to the operation's end) and when it last started or ended one: ~100 bytes a socket
  // where a timer per socket costs ~350 (measured on Node 24; the subscription benchmark holds
  // 10,000 sockets), hence one sweep of all sockets instead.
  const watched: Watched = new WeakMap();
  const touch = (socket: object) => {
    const state = watched.get(socket);
    if (state) state.lastActive = performance.now();
  };
  const socketOf = (extra: unknown) => (extra as { socket: WebSocket }).socket;

  return {
    socketClass,
    handOff: handOffForRestart,
    hooks(serverOptions) {
      const { onConnect, onSubscribe, onNext, onError, onComplete, onClose } = serverOptions;
      return {
        ...serverOptions,
        onConnect: async (ctx) => {
          const permitted = await onConnect?.(ctx);
          const socket = socketOf(ctx.extra);
          if (permitted !== false && socket.readyState === socket.OPEN) watched.set(socket, { subscriptions: ctx.subscriptions, lastActive: performance.now() });
          return permitted;
        },
        onSubscribe: (ctx, id, payload) => {
          touch(socketOf(ctx.extra));
          return onSubscribe?.(ctx, id, payload);
        },
        // Runs just before graphql-ws writes the result (a microtask later).
        onNext: (ctx, id, payload, args, result) => {
          recordResumePosition(socketOf(ctx.extra) as DeliverySocket, result);
          return onNext?.(ctx, id, payload, args, result);
        },
        // Every operation ends through one of these two (a refused one through onError).
        onError: (ctx, id, payload, errors) => {
          touch(socketOf(ctx.extra));
          return onError?.(ctx, id, payload, errors);
        },
        onComplete: (ctx, id, payload) => {
          touch(socketOf(ctx.extra));
          return onComplete?.(ctx, id, payload);
        },
        onClose: (ctx, code, closeReason) => {
          watched.delete(socketOf(ctx.extra));
          return onClose?.(ctx, code, closeReason);
        },
      };
    },

    attach(wss, server) {
      // A socket is closed between idleMs and idleMs + one sweep period (a tenth, at most 1 s) idle.
      const sweeper = setInterval(() => closeIdle(wss.clients, watched, idleMs, reason), Math.max(10, Math.min(1_000, Math.round(idleMs / 10)))).unref();
      wss.once('close', () => clearInterval(sweeper));
      capSocketsPerAddress(wss, options);
      logSocketErrors(wss, server, options);
    },
  };
}

/** Per acknowledged socket: graphql-ws's record of its running operations and when it last started or ended one. */
type Watched = WeakMap<object, { readonly subscriptions: Readonly<Record<string, unknown>>; lastActive: number }>;

/** Closes every open socket of `sockets` that has run nothing for `idleMs`. */
function closeIdle(sockets: Iterable<WebSocket>, watched: Watched, idleMs: number, reason: string): void {
  const now = performance.now();
  for (const socket of sockets) {
    const state = watched.get(socket);
    if (!state || now - state.lastActive < idleMs || socket.readyState !== socket.OPEN) continue;
    let running = false;
    for (const _ in state.subscriptions) {
      running = true;
      break;
    }
    if (running) continue;
    watched.delete(socket);
    socket.close(IDLE_CLOSE_CODE, reason);
  }
}

/** {@link WsLifecycle.handOff}: 1012 and the socket's {@link ResumeHint} with `reconnectInMs`. */
function handOffForRestart(socket: WebSocket, reconnectInMs: number): void {
  if (socket.readyState === WebSocket.OPEN) socket.close(SERVICE_RESTART_CLOSE_CODE, resumeReason(socket as DeliverySocket, reconnectInMs));
}

/**
 * Refuses an upgrade with HTTP 429 (Retry-After: the idle period) once its client address holds
 * `maxSocketsPerAddress` sockets; one warning per episode, not per attempt.
 */
function capSocketsPerAddress(wss: WebSocketServer, options: WsLifecycleOptions): void {
  const { maxSocketsPerAddress, logger } = options;
  const perAddress = new Map<string, number>();
  const warned = new Set<string>();
  const retryAfterSeconds = String(Math.ceil(options.idleMs / 1_000));
  // Counted from the accepted upgrade to the TCP close, so a socket counts while its handshake
  // completes and stops counting however it ends (closed, terminated, failed handshake).
  wss.options.verifyClient = (info: { req: IncomingMessage }, callback: (verified: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => {
    const address = options.clientAddressOfUpgrade(info.req);
    const held = perAddress.get(address) ?? 0;
    if (held >= maxSocketsPerAddress) {
      if (!warned.has(address)) {
        warned.add(address);
        logger.warn({ clientAddress: address, limit: maxSocketsPerAddress }, 'WebSocket upgrades refused: too many sockets from one address');
      }
      callback(false, TOO_MANY_SOCKETS_STATUS, 'Too many WebSockets from this address', { 'Retry-After': retryAfterSeconds });
      return;
    }
    perAddress.set(address, held + 1);
    info.req.socket.once('close', () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
      warned.delete(address);
    });
    callback(true);
  };
}

/** Replaces graphql-ws's error listeners (stack traces to stderr, 1011 for every socket) with log lines. */
function logSocketErrors(wss: WebSocketServer, server: Server, options: WsLifecycleOptions): void {
  const { logger } = options;
  // The WebSocket server only re-emits its HTTP server's errors: before listening they reject the
  // start (one line, src/main.ts); afterwards (e.g. accept() failing with EMFILE) they are logged
  // and the open sockets stay.
  wss.removeAllListeners('error');
  wss.on('error', (error) => {
    if (server.listening) logger.error({ err: error }, 'HTTP server error');
  });
  wss.on('connection', (socket, request) => {
    // ws has already closed the socket with the right code (1009 for a message over maxPayload,
    // 1007 for invalid UTF-8, 1002 for a malformed frame) and emits at most one error per socket.
    socket.removeAllListeners('error');
    const clientAddress = options.clientAddressOfUpgrade(request);
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code?.startsWith('WS_ERR_')) {
        logger.warn({ clientAddress, error: error.code, detail: error.message }, 'WebSocket message refused');
      } else {
        // The connection itself failed (reset by the peer and the like): nothing to act on.
        logger.debug({ clientAddress, error: error.code ?? error.name }, 'WebSocket connection failed');
      }
    });
  });
}
