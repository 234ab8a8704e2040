import type { OpContext } from '../platform/op-context.ts';
import type { CatalogUseCases } from '../modules/catalog/public.ts';
import type { CustomersUseCases } from '../modules/customers/public.ts';
import type { OrdersUseCases } from '../modules/orders/public.ts';
import type { PaymentsUseCases } from '../modules/payments/public.ts';

/**
 * Per-operation GraphQL context: the operation context and every module's use cases over one
 * `em.fork()`. Built fresh for each HTTP request and each graphql-ws subscription, so DataLoaders
 * (keyed by this object) never outlive it.
 */
export interface GraphQLContext {
  readonly op: OpContext;
  readonly catalog: CatalogUseCases;
  readonly customers: CustomersUseCases;
  readonly orders: OrdersUseCases;
  readonly payments: PaymentsUseCases;
}
