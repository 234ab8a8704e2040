import { defineEntity, p } from '@mikro-orm/postgresql';

/** Row shape of `catalog_products` (see src/migrations). */
export const ProductRecord = defineEntity({
  name: 'ProductRecord',
  tableName: 'catalog_products',
  properties: {
    id: p.uuid().primary(),
    sku: p.string().unique(),
    name: p.string(),
    description: p.text(),
    priceMinor: p.bigint('number'),
    stock: p.integer(),
    active: p.boolean(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
