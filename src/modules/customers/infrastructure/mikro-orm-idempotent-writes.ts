import type { EntityManager } from '@mikro-orm/postgresql';
import { MikroOrmIdempotentWrites, pruneIdempotencyKeys as pruneKeys, startIdempotencyKeyPruner as startPruner } from '../../../platform/db/idempotency-keys.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { BackgroundWorker } from '../../../platform/worker-pool.ts';
import type { Customer } from '../domain/customer.ts';
import type { CustomerRepository, IdempotentCustomerWrites } from '../application/ports.ts';
import { IdempotencyKeyRecord } from './idempotency-key.entity.ts';
import { MikroOrmCustomerRepository } from './mikro-orm-customer-repository.ts';

/** A stored answer as the customer it was (jsonb holds the dates as ISO strings and reorders keys). */
function customerOf(stored: Record<string, unknown>): Customer {
  const { id, email, name, role, tier } = stored as unknown as Customer;
  return { id, email, name, role, tier, createdAt: new Date(stored.createdAt as string), updatedAt: new Date(stored.updatedAt as string) };
}

/**
 * {@link IdempotentCustomerWrites} on `customers_idempotency_keys`, in the request's EntityManager
 * (ADR 0013; see MikroOrmIdempotentWrites). Only the account's public fields are stored, never a
 * password hash or a token: a replay mints its own token.
 */
export class MikroOrmIdempotentCustomerWrites extends MikroOrmIdempotentWrites<Customer, CustomerRepository> implements IdempotentCustomerWrites {
  /** `windowMs`: how long a key replays, in ms (default 24 h). */
  constructor(em: EntityManager, windowMs?: number) {
    super(em, {
      entity: IdempotencyKeyRecord,
      repository: (txEm) => new MikroOrmCustomerRepository(txEm),
      toStored: ({ id, email, name, role, tier, createdAt, updatedAt }) => ({ id, email, name, role, tier, createdAt: createdAt.toISOString(), updatedAt: updatedAt.toISOString() }),
      fromStored: customerOf,
      ...(windowMs === undefined ? {} : { windowMs }),
    });
  }
}

/** Deletes the customers module's keys older than the window. @returns how many. */
export const pruneIdempotencyKeys = (em: EntityManager, windowMs?: number): Promise<number> => pruneKeys(em, IdempotencyKeyRecord, windowMs);

/** The customers module's key pruner (see platform/db/idempotency-keys.ts). */
export const startIdempotencyKeyPruner = (options: { readonly em: () => EntityManager; readonly logger: Logger; readonly intervalMs?: number }): BackgroundWorker =>
  startPruner({ ...options, entity: IdempotencyKeyRecord });
