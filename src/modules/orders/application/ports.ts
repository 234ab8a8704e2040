import type { AppError, ValidationError } from '../../../platform/errors.ts';
import type { IdempotencyClaim } from '../../../platform/idempotency.ts';
import type { OpContext } from '../../../platform/op-context.ts';
import type { Page, PageWindow } from '../../../platform/pagination.ts';
import type { Result } from '../../../platform/result.ts';
import type { Order, OrderLine, OrderStatusChange } from '../domain/order.ts';
import type { OrderStatus } from '../domain/status-machine.ts';
import type { LogPosition } from '../domain/order-log-cursor.ts';
import type { Product } from '../../catalog/public.ts';
import type { ProviderEvent } from '../../payments/public.ts';

/** Which orders a list shows. */
export interface OrderFilter {
  /** Set by the use case for customers (their own); admins may set it to look at one customer. */
  readonly customerId?: string;
  readonly statuses?: readonly OrderStatus[];
  readonly createdAfter?: Date;
  readonly createdBefore?: Date;
}

export interface OrderOrder {
  readonly field: 'CREATED_AT' | 'NUMBER' | 'TOTAL';
  readonly direction: 'ASC' | 'DESC';
}

/** Reads of orders, their lines and their audit trail. */
export interface OrderReader {
  findByIds(ids: readonly string[]): Promise<Order[]>;
  findByIdempotencyKey(customerId: string, idempotencyKey: string): Promise<Order | undefined>;
  findPage(filter: OrderFilter, order: OrderOrder, window: PageWindow): Promise<Result<Page<Order>, ValidationError>>;
  /** Lines of the given orders, ordered by order then position. */
  findLines(orderIds: readonly string[]): Promise<OrderLine[]>;
  /** Audit trail of the given orders, ordered by order then version. */
  findHistory(orderIds: readonly string[]): Promise<OrderStatusChange[]>;
  /**
   * Changes of one order with a version greater than `afterVersion`, ascending, each with the
   * cursor of its order-log row; null once that row was pruned (older than the log's window), and
   * for a moment after its commit while an older transaction is still open (the row is not below
   * the commit horizon yet, so resuming after it could skip a row committed later: ADR 0012).
   */
  findHistorySince(orderId: string, afterVersion: number): Promise<(OrderStatusChange & { readonly cursor: string | null })[]>;
  /** PENDING orders last changed before `before`, oldest first. */
  findStalePending(before: Date, limit: number): Promise<Order[]>;
}

/** A product's stock after a reservation, and when it changed. */
export interface ProductStock {
  readonly productId: string;
  readonly stock: number;
  readonly updatedAt: Date;
}

/** Writes that happen inside one database transaction. */
export interface OrdersTransaction {
  /** @returns the product id lacking stock, or undefined when every line was reserved. */
  reserveStock(lines: readonly { productId: string; quantity: number }[]): Promise<string | undefined>;
  /**
   * Like {@link reserveStock}; on success also answers each product's stock after the reservation
   * (and when it changed), for an answer that shows the products.
   */
  reserveStockWithLevels(lines: readonly { productId: string; quantity: number }[]): Promise<{ readonly short: string } | { readonly levels: readonly ProductStock[] }>;
  releaseStock(lines: readonly { productId: string; quantity: number }[]): Promise<void>;
  /**
   * Inserts the order, its lines, its first history entry and that entry's outbox event, and the
   * order's PENDING payment of its total (when positive) with the attempt counted (the payments
   * module's row: on record before the provider is called, ADR 7). The order number is assigned by
   * the database.
   * @returns the saved order, or 'DUPLICATE_IDEMPOTENCY_KEY' when (customer, key) exists (then
   * the caller rolls back: what else was written must not stay).
   */
  insertOrder(order: Omit<Order, 'number'>, lines: readonly Omit<OrderLine, 'orderId'>[], created: OrderStatusChange): Promise<Order | 'DUPLICATE_IDEMPOTENCY_KEY'>;
  /**
   * Applies a status change if the order is still at `change.version - 1` (optimistic lock) and
   * appends the history entry and its outbox event. It must be the transaction's first write (ADR
   * 0012: the log lists an order's versions in version order only then).
   * `stockMoved`: the products whose stock this transaction releases after it (their ids go into
   * the outbox event, so every instance's response cache forgets them; ADR 0015).
   * @returns the updated order, or undefined when the version moved.
   * @throws Error when the transaction wrote before it (a bug in the caller).
   */
  saveStatusChange(change: OrderStatusChange, stockMoved?: readonly string[]): Promise<Order | undefined>;
  /**
   * Claims an idempotency key with the answer it replays (ADR 0013), after the status change it
   * answers for (ADR 0012: the move is the transaction's first write). Waits for a transaction
   * holding the same key uncommitted.
   * @returns false when the key is taken: the caller rolls back and reads the stored answer.
   */
  claimKey(claim: IdempotencyClaim, answer: Order): Promise<boolean>;
}

/** The first answer stored with an idempotency key, and the fingerprint of the request that claimed it (ADR 0013). */
export interface StoredAnswer {
  readonly fingerprint: string;
  readonly order: Order;
}

/** What recording a payment's answer with its order did (see {@link OrdersUnitOfWork.recordPaymentAnswer}). */
export interface PaymentAnswerRecorded {
  /** False when the payment was no longer PENDING: nothing was written. */
  readonly recorded: boolean;
  /** The order after the change, or undefined when it had moved on meanwhile (nothing was written for it). */
  readonly order: Order | undefined;
}

/**
 * Runs work in one transaction: committed when `work` returns ok, rolled back when it returns an
 * error or throws.
 */
export interface OrdersUnitOfWork {
  transaction<T, E>(work: (tx: OrdersTransaction) => Promise<Result<T, E>>): Promise<Result<T, E>>;
  /**
   * In one transaction: records the provider's answer on the order's payment if it is still
   * PENDING, and only then applies `change` (PENDING → PAID or PAYMENT_FAILED) under the optimistic
   * lock with its history entry and outbox event, putting `release` back in stock when it applies.
   * A payment that moved on (VOIDED by the reconciler, settled by a webhook) keeps the order where
   * it is: the caller settles the answer through the payments module instead.
   */
  recordPaymentAnswer(change: OrderStatusChange, answer: ChargeAnswer, release: readonly { productId: string; quantity: number }[]): Promise<PaymentAnswerRecorded>;
  /** The committed, unexpired (24 h) answer of the caller's key, or undefined when the key is free. A read. */
  storedAnswer(claim: Pick<IdempotencyClaim, 'identity' | 'key'>): Promise<StoredAnswer | undefined>;
}

/** What the orders module needs to know of a product to price a line. */
export type PricingProduct = Pick<Product, 'id' | 'name' | 'priceMinor' | 'active'>;

/** The catalog, as seen from orders. */
export interface ProductCatalog {
  /**
   * The products as the catalog has them (priced from, and shown in placeOrder's answer).
   * @returns one entry per id in order, null for unknown ids.
   */
  getForPricing(op: OpContext, ids: readonly string[]): Promise<(Product | null)[]>;
}

/** The customers module, as seen from orders. */
export interface CustomerDirectory {
  /** @returns the discount percentage of the customer's tier (0, 10 or 20), or undefined for an unknown id. */
  discountPercentFor(op: OpContext, customerId: string): Promise<number | undefined>;
}

/** A payment failure the customer can act on (a decline); it carries the provider's code. */
export interface PaymentDecline extends AppError {
  readonly orderId: string;
}

/** A payment's state as far as the order is concerned. */
export type PaymentState = 'PENDING' | 'SUCCEEDED' | 'DECLINED' | 'VOIDED' | 'REFUNDED';

/**
 * The provider's answer to a charge, not recorded yet: SUCCEEDED with its charge id, or DECLINED
 * with the provider's reason and the decline the customer is told.
 */
export type ChargeAnswer =
  | { readonly outcome: 'SUCCEEDED'; readonly chargeId: string }
  | { readonly outcome: 'DECLINED'; readonly code: string; readonly message: string; readonly decline: PaymentDecline };

/** The payments module, as seen from orders. */
export interface OrderPayments {
  /**
   * Sends the charge of an order whose PENDING payment is committed (written with the order, see
   * {@link OrdersTransaction.insertOrder}), with the key derived from the order, so the provider
   * charges at most once however often it is sent. The answer is the caller's to record.
   * @throws when the outcome is unknown (provider unreachable, timed out): the payment stays PENDING.
   */
  sendCharge(op: OpContext, request: { orderId: string; amountMinor: number; currency: string }): Promise<ChargeAnswer>;
  /**
   * Settles an answer that could not be recorded with the order's change (the payment or the order
   * had moved on): records it if the payment is still PENDING, refunds a charge of a payment VOIDED
   * meanwhile. @returns the payment, or the decline (also for a VOIDED one).
   */
  settleCharge(op: OpContext, request: { orderId: string; answer: ChargeAnswer }): Promise<Result<unknown, PaymentDecline>>;
  /** Refunds the order's charge if there is one; a no-op otherwise. Idempotent. */
  refund(op: OpContext, request: { orderId: string }): Promise<void>;
  /** The decline recorded for an order, if its payment was declined (or voided). */
  declineOf(op: OpContext, orderId: string): Promise<PaymentDecline | undefined>;
  /**
   * Learns the outcome of an order's payment from the provider (see the payments module's
   * reconcilePayment); refunds any charge of an order that is not `payable`.
   * @throws when the provider cannot be asked.
   */
  reconcile(op: OpContext, request: { orderId: string; amountMinor: number; currency: string; payable: boolean }): Promise<PaymentState>;
  /** Order ids whose payment outcome is unknown since before `olderThan`, or whose refund is unfinished. */
  listToReconcile(op: OpContext, query: { olderThan: Date; limit: number }): Promise<string[]>;
  /**
   * Records a payment provider's event exactly once (deduplicated by its event id; see the
   * payments module's recordProviderEvent).
   * @returns whether it was new, the order its charge belongs to (null: not ours) and the
   * payment's state now (for a replay: as it stands).
   */
  recordProviderEvent(op: OpContext, event: ProviderEvent): Promise<{ applied: boolean; orderId: string | null; payment: PaymentState | null }>;
}

// A position in the order log: a domain value (compared and put in cursors there).
export type { LogPosition } from '../domain/order-log-cursor.ts';

/** A committed status change as the order log holds it, with its position and the opaque cursor a client resumes from. */
export interface LoggedChange extends OrderStatusChange {
  readonly position: LogPosition;
  /** Opaque, see domain/order-log-cursor.ts; carries the position and when the change was written. */
  readonly cursor: string;
}

/** Which changes a log read returns (both unset: every order's). */
export interface OrderLogFilter {
  readonly customerId?: string;
  readonly orderId?: string;
}

/** Reads the order log: the outbox, in commit-safe order (ADR 0012). */
export interface OrderLog {
  /**
   * Committed changes after `after` (exclusive; null: from the oldest retained), in log order,
   * at most `limit`; only rows below the commit horizon, so a later read never finds a row before
   * the last one returned.
   */
  readAfter(after: LogPosition | null, filter: OrderLogFilter, limit: number): Promise<LoggedChange[]>;
}

/**
 * Rings the order log's doorbell after a commit that wrote to the log: this instance's log reader
 * reads at once, and the other instances' readers are told (Redis pub/sub, or PostgreSQL NOTIFY).
 * A lost ring only delays delivery until the readers' next timed read (ADR 0012).
 */
export interface OrderLogDoorbell {
  ring(): void;
}

/**
 * Lets viewers follow committed status changes as this instance's log reader delivers them (in
 * log order, each change once per instance, never before its commit: a subscriber must never see
 * a change that was rolled back).
 */
export interface OrderEvents {
  /**
   * Starts listening at once (changes delivered after this call are buffered) and yields them in
   * log order until `signal` aborts or the consumer stops.
   */
  subscribe(signal: AbortSignal): AsyncIterable<LoggedChange>;
}
