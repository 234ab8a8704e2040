import type { NamedMigration } from '../platform/db/orm.ts';
import { Migration20261121000500MillisecondTimestamps } from './Migration20261121000500MillisecondTimestamps.ts';

/**
 * Migrations that span modules (each module's own live in its module.ts). Only one: it changed the
 * timestamp precision of three modules' tables at once, and a shipped migration keeps its name.
 */
export const sharedMigrations: readonly NamedMigration[] = [
  { name: 'Migration20261121000500MillisecondTimestamps', class: Migration20261121000500MillisecondTimestamps },
];
