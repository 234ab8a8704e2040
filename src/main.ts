import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { shutdownTelemetry } from './platform/telemetry/sdk.ts';

// Entry point of `npm start`: read config, start, and stop cleanly on SIGINT/SIGTERM.

/**
 * Ends a failed start-up with one line on stderr and exit code 1 (issue 10, item 9): a process
 * manager or log collector shows it whole, and the reason is the message, not a stack trace.
 */
function failStart(reason: string): never {
  process.stderr.write(`Ordergraph failed to start: ${reason.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(1);
}

let config;
try {
  config = loadConfig();
} catch (error) {
  failStart(error instanceof ConfigError ? `invalid configuration: ${error.problems.join('; ')}` : error instanceof Error ? error.message : String(error));
}

const app = createApp(config);
let running;
try {
  running = await app.start();
  if (config.http.graphiql) process.stdout.write(`\nGraphiQL: ${running.url}\n\n`);
} catch (error) {
  await app.stop().catch(() => undefined);
  failStart(error instanceof Error ? error.message : String(error));
}

// Graceful shutdown (issue #5): readiness false, no new connections or WebSockets, every WebSocket
// handed off (1012 with a reconnect delay spread over SHUTDOWN_RECONNECT_SPREAD_MS and its resume
// cursor, issue 14), drain HTTP within SHUTDOWN_GRACE_MS, stop workers, close Redis and the pool
// (app.stop), then flush telemetry.
let stopping = false;
const { logger } = running;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    const started = performance.now();
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down');
    // A last resort if something hangs past the grace plus time to close the rest.
    setTimeout(() => {
      logger.fatal('shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 15_000).unref();
    app
      .stop()
      .then(() => shutdownTelemetry())
      .then(
        () => {
          logger.info({ durationMs: Math.round(performance.now() - started) }, 'shutdown complete');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  });
}
