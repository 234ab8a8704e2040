import { AppError } from '../../../platform/errors.ts';
import type { OrderStatus } from './status-machine.ts';

/** OUT_OF_STOCK: a line asks for more units than are available. Nothing was reserved or charged. */
export class OutOfStockError extends AppError {
  readonly code = 'OUT_OF_STOCK';
  readonly productId: string;
  constructor(productId: string) {
    super('Not enough stock for one of the products');
    this.productId = productId;
  }
}

/** ILLEGAL_TRANSITION: the status machine does not allow this move (or only payments may make it). */
export class IllegalTransitionError extends AppError {
  readonly code = 'ILLEGAL_TRANSITION';
  readonly from: OrderStatus;
  readonly to: OrderStatus;
  constructor(from: OrderStatus, to: OrderStatus, message = `An order cannot go from ${from} to ${to}`) {
    super(message);
    this.from = from;
    this.to = to;
  }
}

/** VERSION_CONFLICT: the order changed since the version the caller saw (optimistic locking). */
export class VersionConflictError extends AppError {
  readonly code = 'VERSION_CONFLICT';
  readonly expectedVersion: number;
  readonly actualVersion: number;
  constructor(expectedVersion: number, actualVersion: number) {
    super(`The order is at version ${actualVersion}, not ${expectedVersion}; reload it and try again`);
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}

// IDEMPOTENCY_KEY_REUSED is shared by every module's idempotent writes (ADR 0013).
export { IdempotencyKeyReusedError } from '../../../platform/errors.ts';

/**
 * CURSOR_EXPIRED: a stream was asked to resume after a cursor older than the order log's retention
 * window (ADR 0012): the changes after it may have been pruned, so resuming would leave a silent
 * gap. The client re-queries the state it shows, then subscribes again (with `snapshot: true` for
 * one order, or without `after`).
 */
export class CursorExpiredError extends AppError {
  readonly code = 'CURSOR_EXPIRED';
  /** When the change the cursor points at was written. */
  readonly writtenAt: Date;
  /** How long the log keeps changes, in ms (the configured window). */
  readonly retentionMs: number;
  constructor(writtenAt: Date, retentionMs: number) {
    super(
      `The cursor is older than the order log's retention window (it points at a change written at ${writtenAt.toISOString()}); query the current state again, then subscribe without it`,
    );
    this.writtenAt = writtenAt;
    this.retentionMs = retentionMs;
  }
}
