import { defineEntity, p } from '@mikro-orm/postgresql';
import { CUSTOMER_ROLES, CUSTOMER_TIERS } from '../domain/customer.ts';

/** Row shape of `customers` (see src/migrations). */
export const CustomerRecord = defineEntity({
  name: 'CustomerRecord',
  tableName: 'customers',
  properties: {
    id: p.uuid().primary(),
    email: p.string().unique(),
    name: p.string(),
    passwordHash: p.text().hidden(),
    role: p.enum(CUSTOMER_ROLES),
    tier: p.enum(CUSTOMER_TIERS),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
