import { Migration } from '@mikro-orm/migrations';

/** Orders: headers with an optimistic-lock version, lines with captured prices, the status audit trail. */
export class Migration20261121000300Orders extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table orders (
        id uuid primary key,
        number bigint generated always as identity unique,
        customer_id uuid not null references customers (id),
        idempotency_key text not null,
        request_hash text not null,
        status text not null check (status in ('PENDING','PAID','PAYMENT_FAILED','SHIPPED','DELIVERED','CANCELLED')),
        currency text not null,
        subtotal_minor bigint not null check (subtotal_minor >= 0),
        discount_percent integer not null check (discount_percent between 0 and 100),
        discount_minor bigint not null check (discount_minor >= 0),
        total_minor bigint not null check (total_minor >= 0),
        version integer not null check (version >= 1),
        created_at timestamptz not null,
        updated_at timestamptz not null,
        unique (customer_id, idempotency_key)
      )`);
    this.addSql('create index orders_customer_created_idx on orders (customer_id, created_at, id)');
    this.addSql('create index orders_created_idx on orders (created_at, id)');
    this.addSql('create index orders_status_idx on orders (status)');
    this.addSql(`
      create table order_lines (
        order_id uuid not null references orders (id) on delete cascade,
        position integer not null check (position between 1 and 50),
        product_id uuid not null references catalog_products (id),
        product_name text not null,
        quantity integer not null check (quantity between 1 and 1000),
        unit_price_minor bigint not null check (unit_price_minor > 0),
        line_total_minor bigint not null check (line_total_minor > 0),
        primary key (order_id, position)
      )`);
    this.addSql(`
      create table order_status_history (
        order_id uuid not null references orders (id) on delete cascade,
        version integer not null check (version >= 1),
        customer_id uuid not null,
        from_status text null,
        to_status text not null,
        actor text null,
        reason text null,
        at timestamptz not null,
        primary key (order_id, version)
      )`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists order_status_history');
    this.addSql('drop table if exists order_lines');
    this.addSql('drop table if exists orders');
  }
}
