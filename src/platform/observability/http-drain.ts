import type { Server } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../logger.ts';

/** What a drain did, for the shutdown log line. */
export interface DrainReport {
  /** HTTP requests in flight when the drain began. */
  readonly inFlightAtStart: number;
  /** WebSockets handed off (closed with 1012, a reconnect delay and their resume cursor). */
  readonly webSocketsClosed: number;
  /** True when everything finished within the grace; false when connections were cut at its end. */
  readonly clean: boolean;
  readonly durationMs: number;
}

/** Graceful stop of the HTTP server and the graphql-ws server on it. */
export interface HttpDrain {
  /** Requests being served right now. */
  inFlight(): number;
  /**
   * Stops accepting connections and WebSocket upgrades, hands every WebSocket off (closed with
   * 1012 Service Restart, a reconnect delay drawn uniformly from [0, `reconnectSpreadMs`) ms and
   * its resume cursor: clients come back to another instance spread over that window and resume
   * where they were), then calls `endStreams` (ends the subscription streams still open: SSE
   * responses finish), lets in-flight requests finish, and closes each keep-alive connection once
   * it is idle. After `graceMs` whatever is left is cut.
   */
  drain(options: { readonly graceMs: number; readonly reconnectSpreadMs: number; readonly endStreams?: () => void }): Promise<DrainReport>;
}

/** Closes one WebSocket for a restart, telling its client to reconnect in `reconnectInMs` ms (src/graphql/ws-lifecycle.ts). */
export type WebSocketHandOff = (socket: WebSocket, reconnectInMs: number) => void;

/** How often idle keep-alive connections are closed while draining (ms). */
const IDLE_SWEEP_MS = 100;

/**
 * Watches `server` from now on (call before it listens) so that {@link HttpDrain.drain} can stop it
 * gracefully; `handOff` closes each of `wss`'s sockets.
 */
export function createHttpDrain(server: Server, wss: WebSocketServer, logger: Logger, handOff: WebSocketHandOff): HttpDrain {
  let inFlight = 0;
  let draining = false;
  server.on('request', (_request, response) => {
    inFlight += 1;
    response.once('close', () => {
      inFlight -= 1;
    });
    // Once draining, a keep-alive connection closes after its current response instead of
    // taking another request that this instance would have to refuse.
    if (draining) response.setHeader('connection', 'close');
  });

  return {
    inFlight: () => inFlight,
    async drain({ graceMs, reconnectSpreadMs, endStreams }) {
      const started = performance.now();
      draining = true;
      const inFlightAtStart = inFlight;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // No more upgrades (ws answers 503 and drops its upgrade listener); open sockets stay.
      wss.close();
      // The hand-off's cursor is exact once the turn's pending writes are done (ws-lifecycle.ts).
      await nextTurn();
      let webSocketsClosed = 0;
      for (const socket of wss.clients) {
        handOff(socket, Math.floor(Math.random() * reconnectSpreadMs));
        webSocketsClosed += 1;
      }
      // After the hand-off: a graphql-ws client told "complete" by an ended stream would not
      // resubscribe, while one whose socket closed with 1012 does.
      endStreams?.();
      logger.info({ inFlight: inFlightAtStart, webSockets: webSocketsClosed, graceMs, reconnectSpreadMs }, 'draining: no new connections, finishing in-flight requests');
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      });
      const outcome = await Promise.race([closed.then(() => 'closed' as const), graceOver]);
      clearInterval(sweep);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        logger.warn({ inFlight, graceMs }, 'shutdown grace over: cutting remaining connections');
        for (const socket of wss.clients) socket.terminate();
        server.closeAllConnections();
      }
      return { inFlightAtStart, webSocketsClosed, clean: outcome === 'closed', durationMs: Math.round(performance.now() - started) };
    },
  };
}
