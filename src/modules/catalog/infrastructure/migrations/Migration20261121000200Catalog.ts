import { Migration } from '@mikro-orm/migrations';

/** Catalog: products with stock that can never go negative. */
export class Migration20261121000200Catalog extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table catalog_products (
        id uuid primary key,
        sku text not null unique,
        name text not null,
        description text not null default '',
        price_minor bigint not null check (price_minor > 0),
        stock integer not null check (stock >= 0),
        active boolean not null default true,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    this.addSql('create index catalog_products_name_idx on catalog_products (name, id)');
    this.addSql('create index catalog_products_price_idx on catalog_products (price_minor, id)');
    this.addSql('create index catalog_products_created_idx on catalog_products (created_at, id)');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists catalog_products');
  }
}
