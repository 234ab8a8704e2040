import type { FieldIssue } from '../../../platform/errors.ts';
import { percentOfMinor } from '../../../platform/money.ts';
import { textIssues } from '../../../platform/text.ts';
import type { OrderStatus } from './status-machine.ts';

/** An order's header. Amounts are integer minor units of `currency`. */
export interface Order {
  readonly id: string;
  /** Human-friendly sequential number, unique. */
  readonly number: number;
  readonly customerId: string;
  readonly idempotencyKey: string;
  /** SHA-256 of the canonical order lines, to tell a replay from a reuse of the key. */
  readonly requestHash: string;
  readonly status: OrderStatus;
  readonly currency: string;
  readonly subtotalMinor: number;
  readonly discountPercent: number;
  readonly discountMinor: number;
  readonly totalMinor: number;
  /** Incremented by every status change; version 1 is the creation (→ PENDING). */
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** One line, with the unit price captured when the order was placed. */
export interface OrderLine {
  readonly orderId: string;
  readonly position: number;
  readonly productId: string;
  /** The product's name when ordered (the audit trail survives renames). */
  readonly productName: string;
  readonly quantity: number;
  readonly unitPriceMinor: number;
  readonly lineTotalMinor: number;
}

/** One entry of the audit trail: who moved the order from what to what, when and why. */
export interface OrderStatusChange {
  readonly orderId: string;
  readonly customerId: string;
  readonly version: number;
  /** Null for the creation entry. */
  readonly from: OrderStatus | null;
  readonly to: OrderStatus;
  readonly at: Date;
  /** `customer:<id>`, `admin:<id>`, `system:<name>`; null when unknown. */
  readonly actor: string | null;
  readonly reason: string | null;
}

/** Limits of a placeOrder request (issue #2). */
export const ORDER_LIMITS = { minLines: 1, maxLines: 50, minQuantity: 1, maxQuantity: 1_000, idempotencyKeyMaxLength: 255, reasonMaxLength: 500 } as const;

/** A requested line before pricing. */
export interface RequestedLine {
  readonly productId: string;
  readonly quantity: number;
}

/**
 * Returns every rule a placeOrder request breaks: 1–50 lines, quantity 1–1000, no product twice,
 * an idempotency key of 1–255 characters on one line without control characters. Paths point into
 * the input (`lines.2.quantity`).
 */
export function checkOrderRequest(lines: readonly RequestedLine[], idempotencyKey: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (lines.length < ORDER_LIMITS.minLines || lines.length > ORDER_LIMITS.maxLines) {
    issues.push({ path: ['lines'], message: `must have ${ORDER_LIMITS.minLines}–${ORDER_LIMITS.maxLines} lines` });
  }
  const seen = new Set<string>();
  lines.forEach((line, index) => {
    if (!Number.isInteger(line.quantity) || line.quantity < ORDER_LIMITS.minQuantity || line.quantity > ORDER_LIMITS.maxQuantity) {
      issues.push({ path: ['lines', String(index), 'quantity'], message: `must be between ${ORDER_LIMITS.minQuantity} and ${ORDER_LIMITS.maxQuantity}` });
    }
    if (seen.has(line.productId)) {
      issues.push({ path: ['lines', String(index), 'productId'], message: 'appears on more than one line; combine the quantities' });
    }
    seen.add(line.productId);
  });
  issues.push(...textIssues(idempotencyKey, ['idempotencyKey'], { minLength: 1, maxLength: ORDER_LIMITS.idempotencyKeyMaxLength }));
  return issues;
}

/**
 * Returns the issues of a cancellation or status-change reason (empty when valid): at most
 * {@link ORDER_LIMITS.reasonMaxLength} characters, line breaks allowed, no other control character.
 * Reported at `input.reason`.
 */
export const checkReason = (reason: string): FieldIssue[] =>
  textIssues(reason, ['input', 'reason'], { maxLength: ORDER_LIMITS.reasonMaxLength, multiline: true });

/** A line priced at the captured unit price. */
export interface PricedLine extends RequestedLine {
  readonly unitPriceMinor: number;
  readonly lineTotalMinor: number;
}

/** The totals of an order. */
export interface OrderTotals {
  readonly lines: readonly PricedLine[];
  readonly subtotalMinor: number;
  readonly discountPercent: number;
  readonly discountMinor: number;
  readonly totalMinor: number;
}

/**
 * Prices an order (issue #2): subtotal = Σ unitPrice × quantity; discount = the tier's percentage
 * of the subtotal, rounded half-up to the minor unit; total = subtotal − discount.
 * @param lines requested lines with the unit price captured now, in minor units
 * @param discountPercent the customer's tier discount: 0, 10 or 20
 */
export function priceOrder(lines: readonly (RequestedLine & { readonly unitPriceMinor: number })[], discountPercent: number): OrderTotals {
  const priced = lines.map((line) => ({ ...line, lineTotalMinor: line.unitPriceMinor * line.quantity }));
  const subtotalMinor = priced.reduce((sum, line) => sum + line.lineTotalMinor, 0);
  const discountMinor = percentOfMinor(subtotalMinor, discountPercent);
  return { lines: priced, subtotalMinor, discountPercent, discountMinor, totalMinor: subtotalMinor - discountMinor };
}
