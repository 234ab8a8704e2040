import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkCustomer } from '../../../platform/authz.ts';
import { ValidationError, type FieldIssue, type UnauthenticatedError } from '../../../platform/errors.ts';
import { runWithStatementSignal } from '../../../platform/cancellation.ts';
import { actorOf, type OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { IdempotencyKeyReusedError, OutOfStockError } from '../domain/errors.ts';
import { checkOrderRequest, priceOrder, type Order, type OrderLine, type OrderStatusChange, type RequestedLine } from '../domain/order.ts';
import type { Product } from '../../catalog/public.ts';
import type { OrdersDeps } from './deps.ts';
import type { PaymentDecline, ProductStock } from './ports.ts';
import { announceCommitted } from './publish.ts';
import { recordChargeAnswer } from './settle-payment.ts';

export interface PlaceOrderInput {
  readonly lines: readonly RequestedLine[];
  /** Chosen by the client per checkout; a retry with the same key returns the first result. */
  readonly idempotencyKey: string;
}

export type PlaceOrderError = ValidationError | OutOfStockError | PaymentDecline | IdempotencyKeyReusedError | UnauthenticatedError;

/**
 * What placing a new order read and wrote, for a caller that answers with more of it than the
 * order (GraphQL's `lines { product }`): its lines, and their products as the catalog had them
 * for pricing, with the stock and `updatedAt` the reservation left.
 */
export interface PlacedOrder {
  readonly order: Order;
  readonly lines: readonly OrderLine[];
  readonly products: readonly Product[];
}

/**
 * Places an order for the signed-in customer, in the seeds' shape validate → reserve → charge → save:
 * validates the lines, prices them at today's prices with the customer's tier discount, writes the
 * order PENDING with its PENDING payment and reserves stock in one transaction, charges the total
 * through the payments port, then records the answer and moves the order to PAID, or to
 * PAYMENT_FAILED with the stock released, in one more (ADR 7; issue 12: at most 8 statements).
 *
 * Idempotent per (customer, idempotencyKey): a repeat with the same lines returns the first
 * outcome without charging again, also when the calls race (the unique key decides the winner and
 * the loser waits for its outcome); the same key with other lines is IDEMPOTENCY_KEY_REUSED.
 * `onPlaced` hears what a new order read and wrote when the call answers with it (PAID, or PENDING).
 * @returns the order (PAID; or PENDING when the payment provider could not be reached: the
 * reconciler settles it later and subscribers hear of it), or VALIDATION_FAILED, OUT_OF_STOCK,
 * PAYMENT_DECLINED (the order exists, PAYMENT_FAILED), IDEMPOTENCY_KEY_REUSED, UNAUTHENTICATED.
 */
export type PlaceOrder = (op: OpContext, input: PlaceOrderInput, onPlaced?: (placed: PlacedOrder) => void) => Promise<Result<Order, PlaceOrderError>>;

export function createPlaceOrder(deps: OrdersDeps): PlaceOrder {
  return async (op, input, onPlaced) => {
    const who = checkCustomer(op);
    if (!('customerId' in who)) return err(who);
    const { customerId } = who;
    const issues = checkOrderRequest(input.lines, input.idempotencyKey);
    if (issues.length > 0) return err(new ValidationError(issues.map((i) => ({ ...i, path: ['input', ...i.path] }))));
    const requestHash = hashRequest(input.lines);

    stopIfAborted(op.signal);
    const priced = await draftOrder(op, deps, input, customerId, requestHash);
    if (!priced.ok) {
      // A repeat of a placed order answers with it, even if a product was withdrawn since.
      const previous = await deps.reader.findByIdempotencyKey(customerId, input.idempotencyKey);
      return previous ? replay(op, deps, previous, requestHash) : priced;
    }

    stopIfAborted(op.signal);
    const { draft, products } = priced.value;
    const saved = await deps.uow.transaction<{ order: Order; levels: readonly ProductStock[] }, OutOfStockError | 'DUPLICATE'>(async (tx) => {
      // Claim the idempotency key before touching stock: a racing twin waits on the unique index,
      // then answers as a replay instead of competing for the last units and reporting OUT_OF_STOCK.
      const order = await tx.insertOrder(draft.order, draft.lines, draft.created);
      if (order === 'DUPLICATE_IDEMPOTENCY_KEY') return err('DUPLICATE');
      const reserved = await tx.reserveStockWithLevels(input.lines);
      return 'short' in reserved ? err(new OutOfStockError(reserved.short)) : ok({ order, levels: reserved.levels });
    });
    if (!saved.ok) {
      if (saved.error !== 'DUPLICATE') return err(saved.error);
      const winner = await deps.reader.findByIdempotencyKey(customerId, input.idempotencyKey);
      if (!winner) throw new Error('idempotency key conflict without a stored order');
      return replay(op, deps, winner, requestHash);
    }
    announceCommitted(deps);
    const { order, levels } = saved.value;
    const lines = draft.lines.map((line) => ({ ...line, orderId: order.id }));
    const result = await payFor(op, deps, order, lines);
    // Not for an order cancelled meanwhile: its stock is no longer what the reservation left.
    if (onPlaced && result.ok && (result.value.status === 'PAID' || result.value.status === 'PENDING')) {
      onPlaced({ order: result.value, lines, products: afterReservation(products, levels) });
    }
    return result;
  };
}

/** A new order as it is written: PENDING, its priced lines, and its first history entry. */
interface OrderDraft {
  readonly order: Omit<Order, 'number'>;
  readonly lines: readonly Omit<OrderLine, 'orderId'>[];
  readonly created: OrderStatusChange;
}

/**
 * Prices the requested lines at today's prices with the customer's tier discount (the products
 * and the tier read together).
 * @returns the draft and the products read, or VALIDATION_FAILED for a missing or withdrawn
 * product, or a signed-in account that no longer exists.
 */
async function draftOrder(
  op: OpContext,
  deps: OrdersDeps,
  input: PlaceOrderInput,
  customerId: string,
  requestHash: string,
): Promise<Result<{ draft: OrderDraft; products: readonly Product[] }, ValidationError>> {
  const [products, discountPercent] = await Promise.all([
    deps.catalog.getForPricing(op, input.lines.map((l) => l.productId)),
    deps.customers.discountPercentFor(op, customerId),
  ]);
  const productIssues: FieldIssue[] = [];
  products.forEach((product, index) => {
    if (!product) productIssues.push({ path: ['input', 'lines', String(index), 'productId'], message: 'no such product' });
    else if (!product.active) productIssues.push({ path: ['input', 'lines', String(index), 'productId'], message: 'is no longer sold' });
  });
  if (productIssues.length > 0) return err(new ValidationError(productIssues));
  if (discountPercent === undefined) return err(ValidationError.of(['viewer'], 'the signed-in account no longer exists'));
  const found = products as Product[];

  const totals = priceOrder(
    input.lines.map((line, index) => ({ ...line, unitPriceMinor: found[index]!.priceMinor })),
    discountPercent,
  );
  const at = deps.clock();
  const orderId = crypto.randomUUID();
  const { subtotalMinor, discountMinor, totalMinor } = totals;
  const draft: OrderDraft = {
    order: { id: orderId, customerId, idempotencyKey: input.idempotencyKey, requestHash, status: 'PENDING', currency: deps.currency, subtotalMinor, discountPercent: totals.discountPercent, discountMinor, totalMinor, version: 1, createdAt: at, updatedAt: at },
    lines: totals.lines.map((line, index) => ({
      position: index + 1,
      productId: line.productId,
      productName: found[index]!.name,
      quantity: line.quantity,
      unitPriceMinor: line.unitPriceMinor,
      lineTotalMinor: line.lineTotalMinor,
    })),
    created: { orderId, customerId, version: 1, from: null, to: 'PENDING', at, actor: actorOf(op.viewer), reason: null },
  };
  return ok({ draft, products: found });
}

/** The products read for pricing, with the stock and `updatedAt` their reservation left. */
function afterReservation(products: readonly Product[], levels: readonly ProductStock[]): Product[] {
  const byId = new Map(levels.map((level) => [level.productId, level]));
  return products.map((product) => {
    const level = byId.get(product.id);
    return level ? { ...product, stock: level.stock, updatedAt: level.updatedAt } : product;
  });
}

/**
 * Charges a committed order and settles it (PAID, or PAYMENT_FAILED with its stock released).
 * Once the order is committed, finishing its payment matters more than the caller staying
 * connected: a disconnect (or the request deadline) must not strand it PENDING with stock
 * reserved, so neither its steps nor its SQL follow the request's signal any more. The payments
 * port bounds the call with its own timeout.
 */
async function payFor(op: OpContext, deps: OrdersDeps, order: Order, lines: readonly OrderLine[]): Promise<Result<Order, PlaceOrderError>> {
  const settling: OpContext = { ...op, signal: new AbortController().signal };
  return runWithStatementSignal(settling.signal, async () => {
    let answer;
    try {
      answer = await deps.payments.sendCharge(settling, { orderId: order.id, amountMinor: order.totalMinor, currency: order.currency });
    } catch (error) {
      // The provider's answer is unknown (unreachable, timed out): the order stays PENDING with its
      // stock reserved, and the reconciler settles it; the client follows it like any other.
      deps.logger.warn({ err: error, orderId: order.id }, 'payment outcome unknown; left to the reconciler');
      return ok(order);
    }
    return recordChargeAnswer(settling, deps, order, lines, answer);
  });
}

/**
 * Stops a call whose caller went away before its order was committed, with an AbortError carrying
 * the reason, as a replay's wait for the first call stops (see {@link replay}).
 */
function stopIfAborted(signal: AbortSignal): void {
  if (!signal.aborted) return;
  const reason: unknown = signal.reason;
  const error = new Error(reason instanceof Error ? reason.message : 'The operation was aborted', { cause: reason });
  error.name = 'AbortError';
  throw error;
}

/** SHA-256 of the lines in a canonical order, so a replay with reordered lines still matches. */
export function hashRequest(lines: readonly RequestedLine[]): string {
  const canonical = [...lines].sort((a, b) => a.productId.localeCompare(b.productId)).map((l) => `${l.productId}:${l.quantity}`);
  return createHash('sha256').update(canonical.join(',')).digest('hex');
}

/**
 * Answers a repeat of an idempotency key with the first call's outcome. When the first call is
 * still charging (PENDING), waits for it to settle, at most until `settleWaitMs` after the first call
 * began, and never past the request's signal (an abort rejects with an AbortError whose `cause` is
 * the signal's reason); it never charges itself.
 */
async function replay(op: OpContext, deps: OrdersDeps, first: Order, requestHash: string): Promise<Result<Order, PlaceOrderError>> {
  if (first.requestHash !== requestHash) return err(new IdempotencyKeyReusedError());
  let order = first;
  // Wait only while the first call's charge can still be in flight; after that the order is
  // PENDING for the reconciler, and saying so at once beats holding the client.
  const deadline = Date.now() + Math.max(0, deps.settleWaitMs - (deps.clock().getTime() - first.createdAt.getTime()));
  let delay = 20;
  while (order.status === 'PENDING' && Date.now() < deadline) {
    await sleep(delay, undefined, { signal: op.signal });
    delay = Math.min(delay * 2, 250);
    const [fresh] = await deps.reader.findByIds([first.id]);
    if (fresh) order = fresh;
  }
  if (order.status === 'PAYMENT_FAILED') {
    const decline = await deps.payments.declineOf(op, order.id);
    if (decline) return err(decline);
  }
  return ok(order);
}
