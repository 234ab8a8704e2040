import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { shutdownTelemetry } from './platform/telemetry/sdk.ts';

// Entry point of `npm start`: read config, start, and stop cleanly on SIGINT/SIGTERM.
let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const app = createApp(config);
let running;
try {
  running = await app.start();
  if (config.http.graphiql) process.stdout.write(`\nGraphiQL: ${running.url}\n\n`);
} catch (error) {
  process.stderr.write(`Ordergraph failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  await app.stop().catch(() => undefined);
  process.exit(1);
}

// Graceful shutdown (issue #5): readiness false, drain HTTP within SHUTDOWN_GRACE_MS, close
// WebSockets with 1001, stop workers, close Redis and the pool (app.stop), then flush telemetry.
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
