import type { Server } from 'node:http';
import type { WebSocketServer } from 'ws';
import type { Logger } from '../logger.ts';

/** What a drain did, for the shutdown log line. */
export interface DrainReport {
  /** HTTP requests in flight when the drain began. */
  readonly inFlightAtStart: number;
  /** WebSockets closed with 1001. */
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
   * Stops accepting connections, closes every WebSocket with 1001 (going away: clients reconnect
   * to another instance and resume with afterVersion), lets in-flight requests finish, and closes
   * each keep-alive connection once it is idle. After `graceMs` whatever is left is cut.
   */
  drain(graceMs: number): Promise<DrainReport>;
}

/** How often idle keep-alive connections are closed while draining (ms). */
const IDLE_SWEEP_MS = 100;

/** Watches `server` from now on (call before it listens) so that {@link HttpDrain.drain} can stop it gracefully. */
export function createHttpDrain(server: Server, wss: WebSocketServer, logger: Logger): HttpDrain {
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
    async drain(graceMs) {
      const started = performance.now();
      draining = true;
      const inFlightAtStart = inFlight;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      let webSocketsClosed = 0;
      for (const socket of wss.clients) {
        socket.close(1001, 'server shutting down');
        webSocketsClosed += 1;
      }
      wss.close();
      logger.info({ inFlight: inFlightAtStart, webSockets: webSocketsClosed, graceMs }, 'draining: no new connections, finishing in-flight requests');
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
