import { Migration } from '@mikro-orm/migrations';

/**
 * Keyset cursors carry JavaScript Dates (millisecond precision); a row stamped with microseconds
 * (a column default, a manual insert) would never be passed by its own cursor. Store milliseconds.
 */
export class Migration20261121000500MillisecondTimestamps extends Migration {
  override async up(): Promise<void> {
    for (const table of ['customers', 'catalog_products', 'orders']) {
      this.addSql(`alter table ${table} alter column created_at type timestamptz(3), alter column updated_at type timestamptz(3)`);
    }
  }

  override async down(): Promise<void> {
    for (const table of ['customers', 'catalog_products', 'orders']) {
      this.addSql(`alter table ${table} alter column created_at type timestamptz, alter column updated_at type timestamptz`);
    }
  }
}
