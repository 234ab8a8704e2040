import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config.ts';
import type { AnyModule } from '../modules/module-descriptor.ts';
import { inNameOrder } from '../modules.ts';
import { sharedMigrations } from '../migrations/shared.ts';
import { startEmbeddedPostgres } from '../platform/db/embedded-postgres.ts';
import { createOrm, migrate } from '../platform/db/orm.ts';
import type { Logger } from '../platform/logger.ts';
import type { Health } from '../platform/observability/health.ts';
import type { Metrics } from '../platform/observability/metrics.ts';

/**
 * Opens the database with every module's entity schemas: PostgreSQL at DATABASE_URL, or the
 * embedded PGlite under `dataDir` when it is unset; migrates when configured; reports readiness
 * and pool gauges. `cleanups` gets what closes it (run in reverse order of opening).
 */
export async function openDatabase(
  config: Config,
  modules: readonly AnyModule[],
  deps: { readonly logger: Logger; readonly health: Health; readonly metrics: Metrics; readonly onQuery?: ((sql: string) => void) | undefined; readonly cleanups: (() => Promise<void>)[] },
): Promise<MikroORM> {
  const { logger, cleanups } = deps;
  let url = config.database.url;
  let poolMax = config.database.poolMax;
  if (!url) {
    const embedded = await startEmbeddedPostgres(join(config.dataDir, 'pglite'));
    cleanups.unshift(() => embedded.stop());
    url = embedded.url;
    poolMax = embedded.maxConnections;
    logger.info({ dataDir: config.dataDir }, 'embedded PostgreSQL (PGlite) started');
  }
  const orm = await createOrm({
    url,
    poolMax,
    debug: config.database.debug,
    entities: modules.flatMap((module) => module.entities),
    migrations: inNameOrder([...modules.flatMap((module) => module.migrations), ...sharedMigrations]),
    logger,
    ...(deps.onQuery ? { onQuery: deps.onQuery } : {}),
    // The embedded PGlite ignores cancel requests (and runs one statement at a time anyway).
    cancelStatementsOnAbort: url === config.database.url,
  });
  cleanups.unshift(() => orm.close());
  deps.health.addCheck({ name: 'database', critical: true, check: async () => (await orm.checkConnection()).ok });
  const pool = await orm.em.getConnection().getNativeClient();
  deps.metrics.sources.dbPool = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: poolMax });
  if (config.database.migrateOnStart) {
    const applied = await migrate(orm);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  }
  return orm;
}
