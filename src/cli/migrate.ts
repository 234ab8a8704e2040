import { join } from 'node:path';
import { loadConfig } from '../config.ts';
import { allEntities, allMigrations as migrations } from '../modules.ts';
import { startEmbeddedPostgres } from '../platform/db/embedded-postgres.ts';
import { createOrm, migrate } from '../platform/db/orm.ts';
import { createLogger } from '../platform/logger.ts';

// `npm run migrate`: applies pending migrations to DATABASE_URL (or to the embedded database in DATA_DIR).
const config = loadConfig();
const logger = createLogger(config.logLevel);
const embedded = config.database.url ? undefined : await startEmbeddedPostgres(join(config.dataDir, 'pglite'));
const orm = await createOrm({
  url: config.database.url ?? embedded!.url,
  poolMax: embedded ? embedded.maxConnections : 2,
  debug: config.database.debug,
  entities: allEntities,
  migrations,
  logger,
});
try {
  const applied = await migrate(orm);
  logger.info({ applied, target: embedded ? 'embedded' : 'DATABASE_URL' }, applied.length ? 'migrations applied' : 'database is up to date');
} finally {
  await orm.close();
  await embedded?.stop();
}
