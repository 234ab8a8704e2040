import type { CatalogApi } from '../modules/catalog/public.ts';
import type { CustomersApi } from '../modules/customers/public.ts';
import type { OrdersApi } from '../modules/orders/public.ts';
import type { PaymentsApi } from '../modules/payments/public.ts';
import type { RequestScope } from '../platform/request-scope.ts';

/**
 * Per-operation GraphQL context: the operation's request scope (`op`, `client`, a lazily forked
 * `em`) with each module's API, built on first read. Made fresh for each HTTP request and each
 * graphql-ws subscription, so DataLoaders (keyed by this object) never outlive it. Only module
 * contracts (public.ts) are named here, so the GraphQL layer depends on no module's wiring.
 */
export interface GraphQLContext extends RequestScope {
  readonly catalog: CatalogApi;
  readonly customers: CustomersApi;
  readonly orders: OrdersApi;
  readonly payments: PaymentsApi;
}
