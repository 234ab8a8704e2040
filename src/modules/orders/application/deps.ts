import type { Logger } from '../../../platform/logger.ts';
import type { CrashPoints } from '../../../platform/crash-points.ts';
import type { CustomerDirectory, OrderEvents, OrderLog, OrderLogDoorbell, OrderPayments, OrderReader, OrdersUnitOfWork, ProductCatalog } from './ports.ts';

/** Everything the orders use cases depend on: their ports plus store settings. */
export interface OrdersDeps {
  readonly reader: OrderReader;
  readonly uow: OrdersUnitOfWork;
  readonly catalog: ProductCatalog;
  readonly customers: CustomerDirectory;
  readonly payments: OrderPayments;
  readonly events: OrderEvents;
  /** The order log, read by streams that resume (ADR 0012). */
  readonly log: OrderLog;
  /** How long the order log keeps changes, in ms (ORDER_LOG_RETENTION_HOURS): older cursors are CURSOR_EXPIRED. */
  readonly logRetentionMs: number;
  /** Rung after every commit that wrote to the order log (ADR 0012). */
  readonly doorbell: OrderLogDoorbell;
  readonly crashPoints: CrashPoints;
  /** ISO 4217 store currency. */
  readonly currency: string;
  readonly clock: () => Date;
  /**
   * How long a replay of an idempotency key waits for the first call's payment to settle, in ms
   * (the payment timeout plus a margin).
   */
  readonly settleWaitMs: number;
  readonly logger: Pick<Logger, 'warn' | 'error'>;
}
