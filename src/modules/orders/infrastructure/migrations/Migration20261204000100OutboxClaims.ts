import { Migration } from '@mikro-orm/migrations';

/**
 * Outbox claims without a held transaction: a relay worker claims a batch by setting
 * `claimed_until` (one statement that commits at once), publishes, then marks the batch published
 * (a second statement). A worker that dies leaves its claim to expire, and the rows are claimed
 * again (at-least-once, as before). Until now a claim was a row lock held in a transaction open
 * across the publishing: four statements a batch (BEGIN, claim, mark, COMMIT; issue 12).
 * Existing rows need nothing: none is claimed.
 */
export class Migration20261204000100OutboxClaims extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table outbox add column claimed_until timestamptz(3) null');
  }

  override async down(): Promise<void> {
    this.addSql('alter table outbox drop column claimed_until');
  }
}
