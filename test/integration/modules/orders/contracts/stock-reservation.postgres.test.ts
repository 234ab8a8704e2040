import { createCatalogModule } from '../../../../../src/modules/catalog/module.ts';
import { createPaymentsModule, SimulatedPaymentProvider } from '../../../../../src/modules/payments/module.ts';
import { MikroOrmOrdersUnitOfWork } from '../../../../../src/modules/orders/infrastructure/mikro-orm-orders-unit-of-work.ts';
import { useTestDatabase } from '../../../../support/test-database.ts';
import { describeStockReservationContract } from '../../../../unit/modules/orders/contracts/stock-reservation.contract.ts';

// The PostgreSQL unit of work (with the catalog's conditional stock updates) against the contract
// its in-memory fake passes too. Products are another module's table: plain statements make them.
const database = useTestDatabase();
const sql = (query: string, params: unknown[]) => database.orm.em.fork().getConnection().execute<{ stock: number }[]>(query, params);

describeStockReservationContract('MikroOrmOrdersUnitOfWork', () => ({
  uow: () =>
    new MikroOrmOrdersUnitOfWork(database.orm.em.fork(), {
      stockReservations: createCatalogModule({ currency: 'USD' }).stockReservations,
      paymentStatements: createPaymentsModule({ provider: new SimulatedPaymentProvider({ latencyMs: 0, declineAboveMinor: Number.MAX_SAFE_INTEGER }), callBudgetMs: 1_000 }).paymentStatements,
    }),
  async product({ stock, active }) {
    const id = crypto.randomUUID();
    await sql('insert into catalog_products (id, sku, name, price_minor, stock, active) values (?, ?, ?, ?, ?, ?)', [id, `S-${id.slice(0, 13).toUpperCase()}`, 'Widget', 1_000, stock, active ?? true]);
    return id;
  },
  async stockOf(productId) {
    const [row] = await sql('select stock from catalog_products where id = ?', [productId]);
    return row?.stock;
  },
}));
