import { Migration } from '@mikro-orm/migrations';

/**
 * Idempotency keys of the customers module's writes, setCustomerTier and signUp (ADR 0013): the
 * primary key (identity, key) is what racing twins meet on; `created_at` (index) is what the 24 h window and the pruner read.
 */
export class Migration20261204000500CustomersIdempotencyKeys extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table customers_idempotency_keys (
        identity text not null,
        key text not null,
        fingerprint text not null,
        result jsonb null,
        created_at timestamptz(3) not null default now(),
        primary key (identity, key)
      )`);
    this.addSql('create index customers_idempotency_keys_created_idx on customers_idempotency_keys (created_at)');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists customers_idempotency_keys');
  }
}
