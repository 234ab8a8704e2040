/** Every status an order can be in. */
export const ORDER_STATUSES = ['PENDING', 'PAID', 'PAYMENT_FAILED', 'SHIPPED', 'DELIVERED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * The order status machine, defined once: it drives both the checks and `availableTransitions`.
 * Source: issue #2 — PENDING → PAID | PAYMENT_FAILED | CANCELLED; PAID → SHIPPED | CANCELLED
 * (refund); SHIPPED → DELIVERED. PAYMENT_FAILED, DELIVERED and CANCELLED are final.
 */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  PENDING: ['PAID', 'PAYMENT_FAILED', 'CANCELLED'],
  PAID: ['SHIPPED', 'CANCELLED'],
  PAYMENT_FAILED: [],
  SHIPPED: ['DELIVERED'],
  DELIVERED: [],
  CANCELLED: [],
};

/** The statuses an order in `status` may move to next (empty for final statuses). */
export const availableTransitions = (status: OrderStatus): readonly OrderStatus[] => ORDER_TRANSITIONS[status];

/** True when the machine allows `from → to`. */
export const canTransition = (from: OrderStatus, to: OrderStatus): boolean => ORDER_TRANSITIONS[from].includes(to);

/**
 * Statuses only payment processing may set; an admin's `updateOrderStatus` cannot, so that a PAID
 * order always has a settled charge behind it.
 */
export const PAYMENT_DRIVEN_STATUSES: readonly OrderStatus[] = ['PAID', 'PAYMENT_FAILED'];
