import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';

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
try {
  const running = await app.start();
  if (config.http.graphiql) process.stdout.write(`\nGraphiQL: ${running.url}\n\n`);
} catch (error) {
  process.stderr.write(`Ordergraph failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  await app.stop().catch(() => undefined);
  process.exit(1);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  });
}
