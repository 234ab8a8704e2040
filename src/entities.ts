import { catalogEntities } from './modules/catalog/public.ts';
import { customersEntities } from './modules/customers/public.ts';
import { ordersEntities } from './modules/orders/public.ts';
import { paymentsEntities } from './modules/payments/public.ts';

/** Every module's MikroORM entity schemas: what the ORM is initialised with. */
export const allEntities = [...customersEntities, ...catalogEntities, ...ordersEntities, ...paymentsEntities];
