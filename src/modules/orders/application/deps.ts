import type { Logger } from '../../../platform/logger.ts';
import type { CrashPoints } from '../../../platform/crash-points.ts';
import type { CustomerDirectory, OrderEvents, OrderPayments, OrderReader, OrdersUnitOfWork, OutboxRelayTrigger, ProductCatalog } from './ports.ts';

/** Everything the orders use cases depend on: their ports plus store settings. */
export interface OrdersDeps {
  readonly reader: OrderReader;
  readonly uow: OrdersUnitOfWork;
  readonly catalog: ProductCatalog;
  readonly customers: CustomerDirectory;
  readonly payments: OrderPayments;
  readonly events: OrderEvents;
  readonly outbox: OutboxRelayTrigger;
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
