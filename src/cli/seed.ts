import { createApp } from '../app.ts';
import { loadConfig } from '../config.ts';

// `npm run seed`: loads the demo accounts and products (idempotent). Refused in production.
const config = loadConfig();
if (config.env === 'production') {
  process.stderr.write('Refusing to load demo data with NODE_ENV=production.\n');
  process.exit(1);
}
const app = createApp({
  ...config,
  http: { ...config.http, host: '127.0.0.1', port: 0, graphiql: false },
  database: { ...config.database, migrateOnStart: true },
  seedDemoData: true,
});
await app.start();
await app.stop();
