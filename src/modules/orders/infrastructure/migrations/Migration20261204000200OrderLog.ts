import { Migration } from '@mikro-orm/migrations';

/**
 * The outbox becomes the order log (ADR 0012):
 * - `tx_id xid8 default pg_current_xact_id()`: the writing transaction's id, set by every insert
 *   path. Rows already there get the id of this migration's transaction (one value for all, which
 *   PostgreSQL stores once without rewriting the table): their order among themselves stays their
 *   `id` order, and all of them come before anything written later.
 * - `customer_id`: customers' streams read their own rows; backfilled from the payload (every
 *   writer put `customerId` there), or from the order when a payload lacks it.
 * - index `(tx_id, id)`: the readers' order; `(customer_id, tx_id, id)`: a customer's replay.
 * - the relay's bookkeeping goes (published_at, attempts, last_error, claimed_until and their
 *   indexes): a row is delivered when the readers have read it, not when a relay marked it.
 */
export class Migration20261204000200OrderLog extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table outbox add column tx_id xid8 not null default pg_current_xact_id()');
    this.addSql('alter table outbox add column customer_id uuid null');
    this.addSql(`
      update outbox o set customer_id = coalesce(
        case when o.payload->>'customerId' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then (o.payload->>'customerId')::uuid end,
        (select r.customer_id from orders r where r.id = o.aggregate_id))`);
    this.addSql('alter table outbox alter column customer_id set not null');
    this.addSql('drop index if exists outbox_unpublished_idx');
    this.addSql('drop index if exists outbox_aggregate_unpublished_idx');
    this.addSql('alter table outbox drop column published_at, drop column attempts, drop column last_error, drop column claimed_until');
    this.addSql('create index outbox_log_idx on outbox (tx_id, id)');
    this.addSql('create index outbox_customer_log_idx on outbox (customer_id, tx_id, id)');
  }

  /** Back to the relay's table: every row counts as published (the relay would send them again otherwise). */
  override async down(): Promise<void> {
    this.addSql('drop index if exists outbox_customer_log_idx');
    this.addSql('drop index if exists outbox_log_idx');
    this.addSql('alter table outbox add column published_at timestamptz(3) null, add column attempts integer not null default 0, add column last_error text null, add column claimed_until timestamptz(3) null');
    this.addSql('update outbox set published_at = created_at');
    this.addSql('create index outbox_unpublished_idx on outbox (id) where published_at is null');
    this.addSql('create index outbox_aggregate_unpublished_idx on outbox (aggregate_id, id) where published_at is null');
    this.addSql('alter table outbox drop column customer_id, drop column tx_id');
  }
}
