import { lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { registerCatalogGraphQL } from '../modules/catalog/public.ts';
import { registerCustomersGraphQL } from '../modules/customers/public.ts';
import { registerOrdersGraphQL } from '../modules/orders/public.ts';
import { PaymentDeclinedError, registerPaymentsGraphQL } from '../modules/payments/public.ts';
import { createBuilder } from './builder.ts';
import { registerCommonTypes } from './common.ts';

/**
 * Builds the whole schema on a fresh builder: shared types, then each module's types (orders last,
 * since its fields point at customers, products and payments). Sorted, so the printed SDL is stable.
 */
export function createSchema(options: { currency: string }): GraphQLSchema {
  const builder = createBuilder();
  const common = registerCommonTypes(builder);
  const customers = registerCustomersGraphQL(builder, common);
  const catalog = registerCatalogGraphQL(builder, common, options);
  const payments = registerPaymentsGraphQL(builder, common);
  registerOrdersGraphQL(
    builder,
    common,
    {
      Customer: customers.Customer,
      Product: catalog.Product,
      Payment: payments.Payment,
      PaymentDeclinedError,
      PaymentDeclinedErrorRef: payments.PaymentDeclinedError,
    },
    options,
  );
  return lexicographicSortSchema(builder.toSchema());
}
