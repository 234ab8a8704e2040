import { Migration } from '@mikro-orm/migrations';
import { idempotencyKeysTableSql } from '../../../../platform/db/idempotency-keys.ts';

/**
 * Idempotency keys of cancelOrder and updateOrderStatus (ADR 0013): the primary key (identity,
 * key) is what a claim meets another claim on; `created_at` (index) is what the 24 h window and
 * the pruner read.
 */
export class Migration20261204000400OrdersIdempotencyKeys extends Migration {
  override async up(): Promise<void> {
    for (const statement of idempotencyKeysTableSql('orders_idempotency_keys').up) this.addSql(statement);
  }

  override async down(): Promise<void> {
    this.addSql(idempotencyKeysTableSql('orders_idempotency_keys').down);
  }
}
