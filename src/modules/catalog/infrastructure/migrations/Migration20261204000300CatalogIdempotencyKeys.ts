import { Migration } from '@mikro-orm/migrations';
import { idempotencyKeysTableSql } from '../../../../platform/db/idempotency-keys.ts';

/**
 * Idempotency keys of the catalog's writes (ADR 0013): the primary key (identity, key) is what
 * racing twins meet on; `created_at` (index) is what the 24 h window and the pruner read.
 */
export class Migration20261204000300CatalogIdempotencyKeys extends Migration {
  override async up(): Promise<void> {
    for (const statement of idempotencyKeysTableSql('catalog_idempotency_keys').up) this.addSql(statement);
  }

  override async down(): Promise<void> {
    this.addSql(idempotencyKeysTableSql('catalog_idempotency_keys').down);
  }
}
