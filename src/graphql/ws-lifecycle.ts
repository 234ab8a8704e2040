import type { IncomingMessage, Server } from 'node:http';
import type { ConnectionInitMessage, ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
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
  readonly logger: Logger;
}

/** What {@link createWsLifecycle} gives the graphql-ws server. */
export interface WsLifecycle {
  /** Wraps graphql-ws's server options so that idle sockets are closed; the hooks given still run, unchanged. */
  hooks<P extends ConnectionInitMessage['payload'], E>(options: ServerOptions<P, E>): ServerOptions<P, E>;
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
 * Lifecycle rules of graphql-ws sockets beyond the protocol's own (issue 10, item 7): idle sockets
 * are closed, and each client address holds a bounded number of sockets (docs/security.md).
 */
export function createWsLifecycle(options: WsLifecycleOptions): WsLifecycle {
  const { idleMs } = options;
  const reason = idleCloseReason(idleMs);
  // Per acknowledged socket: graphql-ws's record of its running operations (from a subscribe
  // message to the operation's end) and when it last started or ended one: ~100 bytes a socket
  // where a timer per socket costs ~350 (measured on Node 24; the subscription benchmark holds
  // 10,000 sockets), hence one sweep of all sockets instead.
  const watched = new WeakMap<object, { readonly subscriptions: Readonly<Record<string, unknown>>; lastActive: number }>();
  const touch = (socket: object) => {
    const state = watched.get(socket);
    if (state) state.lastActive = performance.now();
  };

  /** Closes every open socket that has run nothing for `idleMs`. */
  function sweep(sockets: Iterable<WebSocket>): void {
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
  const socketOf = (extra: unknown) => (extra as { socket: WebSocket }).socket;

  return {
    hooks(serverOptions) {
      const { onConnect, onSubscribe, onError, onComplete, onClose } = serverOptions;
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
      const sweeper = setInterval(() => sweep(wss.clients), Math.max(10, Math.min(1_000, Math.round(idleMs / 10)))).unref();
      wss.once('close', () => clearInterval(sweeper));
      capSocketsPerAddress(wss, options);
      logSocketErrors(wss, server, options);
    },
  };
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
