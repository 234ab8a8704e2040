import { Migration } from '@mikro-orm/migrations';

/** Customers: accounts with a role and a pricing tier. E-mails are stored lower-cased, so `unique` is case-insensitive. */
export class Migration20261121000100Customers extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table customers (
        id uuid primary key,
        email text not null unique check (email = lower(email)),
        name text not null,
        password_hash text not null,
        role text not null default 'CUSTOMER' check (role in ('CUSTOMER', 'ADMIN')),
        tier text not null default 'BASIC' check (tier in ('BASIC', 'PREMIUM', 'ENTERPRISE')),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    this.addSql('create index customers_created_idx on customers (created_at, id)');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists customers');
  }
}
