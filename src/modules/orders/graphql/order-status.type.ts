import type { Builder } from '../../../graphql/builder.ts';
import { ORDER_STATUSES } from '../domain/status-machine.ts';

/** Registers the OrderStatus enum, shared by orders, their audit trail, errors and inputs. */
export function registerOrderStatus(builder: Builder) {
  return builder.enumType('OrderStatus', { values: ORDER_STATUSES });
}

/** The OrderStatus enum ref as {@link registerOrderStatus} returns it. */
export type OrderStatusRef = ReturnType<typeof registerOrderStatus>;
