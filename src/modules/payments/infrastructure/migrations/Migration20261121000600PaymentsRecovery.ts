import { Migration } from '@mikro-orm/migrations';

/**
 * Recovery of payments whose outcome is unknown, and the transactional outbox:
 * - payments: VOIDED (the provider confirmed no charge was made, so the attempt is closed; a charge
 *   that still surfaces later is refunded at once, VOIDED → REFUNDED), and the attempt counter and
 *   last error recorded before/after every provider call;
 * - payment_provider_events: webhook event ids already applied (deduplication);
 * - outbox: events written in the same transaction as the change they announce, published by the
 *   relay afterwards, in order per aggregate.
 */
export class Migration20261121000600PaymentsRecovery extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table payments drop constraint payments_status_check');
    this.addSql(`alter table payments add constraint payments_status_check check (status in ('PENDING', 'SUCCEEDED', 'DECLINED', 'VOIDED', 'REFUNDED'))`);
    this.addSql('alter table payments add column attempt_count integer not null default 0 check (attempt_count >= 0)');
    this.addSql('alter table payments add column last_attempt_at timestamptz(3) null');
    this.addSql('alter table payments add column last_error text null');
    // Set before a refund is sent, so a refund that failed or was cut off is retried by the reconciler.
    this.addSql('alter table payments add column refund_requested_at timestamptz(3) null');
    this.addSql('create index payments_pending_idx on payments (created_at) where status = \'PENDING\'');
    this.addSql(`
      create table payment_provider_events (
        event_id text primary key,
        type text not null,
        order_id uuid null,
        received_at timestamptz(3) not null
      )`);
    this.addSql(`
      create table outbox (
        id bigint generated always as identity primary key,
        topic text not null,
        aggregate_id uuid not null,
        version integer not null,
        payload jsonb not null,
        created_at timestamptz(3) not null,
        published_at timestamptz(3) null,
        attempts integer not null default 0,
        last_error text null,
        unique (topic, aggregate_id, version)
      )`);
    this.addSql('create index outbox_unpublished_idx on outbox (id) where published_at is null');
    this.addSql('create index outbox_aggregate_unpublished_idx on outbox (aggregate_id, id) where published_at is null');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists outbox');
    this.addSql('drop table if exists payment_provider_events');
    this.addSql('drop index if exists payments_pending_idx');
    this.addSql('alter table payments drop column attempt_count, drop column last_attempt_at, drop column last_error, drop column refund_requested_at');
    this.addSql('alter table payments drop constraint payments_status_check');
    this.addSql(`alter table payments add constraint payments_status_check check (status in ('PENDING', 'SUCCEEDED', 'DECLINED', 'REFUNDED'))`);
  }
}
