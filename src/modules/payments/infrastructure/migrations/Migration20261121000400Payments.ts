import { Migration } from '@mikro-orm/migrations';

/**
 * Payments: at most one per order, with the idempotency key sent to the provider. No foreign key
 * to orders: the modules own their tables and meet only through their public use cases.
 */
export class Migration20261121000400Payments extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table payments (
        id uuid primary key,
        order_id uuid not null unique,
        idempotency_key text not null unique,
        amount_minor bigint not null check (amount_minor > 0),
        currency text not null check (currency ~ '^[A-Z]{3}$'),
        status text not null check (status in ('PENDING', 'SUCCEEDED', 'DECLINED', 'REFUNDED')),
        provider_charge_id text null,
        provider_refund_id text null,
        decline_code text null,
        decline_message text null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        refunded_at timestamptz null,
        -- Each status carries exactly the provider data it is defined by, so no settlement is half-written.
        constraint payments_charge_id_check check ((provider_charge_id is not null) = (status in ('SUCCEEDED', 'REFUNDED'))),
        constraint payments_refund_check check ((provider_refund_id is not null and refunded_at is not null) = (status = 'REFUNDED')),
        constraint payments_decline_check check ((decline_code is not null and decline_message is not null) = (status = 'DECLINED'))
      )`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists payments');
  }
}
