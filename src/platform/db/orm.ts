import { MikroORM, type EntitySchema, type Options } from '@mikro-orm/postgresql';
import { Migrator, type Migration } from '@mikro-orm/migrations';
import type pg from 'pg';
import type { Logger } from '../logger.ts';
import { cancelStatementsOnAbort } from './statement-cancellation.ts';

/** A migration class with the name recorded in the migrations table. */
export interface NamedMigration {
  readonly name: string;
  readonly class: new (...args: ConstructorParameters<typeof Migration>) => Migration;
}

/** What {@link createOrm} needs: where the database is, and what lives in it. */
export interface OrmOptions {
  readonly url: string;
  readonly poolMax: number;
  readonly debug: boolean;
  // biome-ignore lint: entity schemas are heterogeneous by nature
  readonly entities: readonly EntitySchema<any, any>[];
  readonly migrations: readonly NamedMigration[];
  readonly logger: Logger;
  /** Called with every SQL statement sent (tests count statements with it). */
  readonly onQuery?: (sql: string) => void;
  /**
   * Cancel the running statement of an operation whose signal aborts (statement-cancellation.ts).
   * Off for the embedded PGlite, which ignores cancel requests.
   */
  readonly cancelStatementsOnAbort?: boolean;
}

/**
 * Starts MikroORM on the PostgreSQL driver (also for the embedded PGlite, which speaks the same
 * wire protocol). Migrations are an explicit list, not a folder scan, so they run the same under
 * Node's type stripping, vitest and a bundled build.
 */
export async function createOrm(options: OrmOptions): Promise<MikroORM> {
  const dbLogger = options.logger.child({ component: 'db' });
  const config: Options = {
    clientUrl: options.url,
    entities: [...options.entities],
    pool: { min: 0, max: options.poolMax, idleTimeoutMillis: 30_000 },
    extensions: [Migrator],
    migrations: {
      migrationsList: options.migrations.map((m) => ({ name: m.name, class: m.class })),
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      snapshotOnMigrate: false,
      silent: true,
    },
    discovery: { warnWhenNoEntities: false },
    // Reads never go through entity instances we mutate by accident.
    forceUndefined: true,
    debug: options.debug || options.onQuery ? ['query'] : false,
    logger: (message) => {
      if (options.onQuery) options.onQuery(message);
      if (options.debug) dbLogger.debug(message);
    },
    ensureDatabase: false,
    allowGlobalContext: false,
    driverOptions: {
      onPoolCreated: (pool: pg.Pool) => {
        parseBigintsAsNumbers(pool);
        if (options.cancelStatementsOnAbort) cancelStatementsOnAbort(pool, { logger: dbLogger });
      },
    } as Options['driverOptions'],
  };
  return MikroORM.init(config);
}

/** PostgreSQL's type id of `bigint` (int8). */
const INT8_OID = 20;

/**
 * Makes the pool's clients read `bigint` columns as JavaScript numbers, like the entities declare
 * them (`p.bigint('number')`: amounts in minor units, order numbers, outbox ids, counts), so rows
 * of MikroORM's plain-object reads (compiled-select.ts) need no conversion per property. A value
 * beyond Number.MAX_SAFE_INTEGER stays a string rather than losing digits. The parser goes into
 * MikroORM's own type overrides of this pool (which keep timestamps as strings for its mapper).
 */
function parseBigintsAsNumbers(pool: pg.Pool): void {
  const types = (pool.options as { types?: { setTypeParser(oid: number, parse: (value: string) => unknown): void } }).types;
  types?.setTypeParser(INT8_OID, (value) => {
    const number = Number(value);
    return Number.isSafeInteger(number) ? number : value;
  });
}

/** Applies every pending migration; returns the names applied. */
export async function migrate(orm: MikroORM): Promise<string[]> {
  const applied = await orm.migrator.up();
  return applied.map((m) => m.name);
}
