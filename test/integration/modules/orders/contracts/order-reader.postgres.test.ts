import type { InferEntity } from '@mikro-orm/postgresql';
import { MikroOrmOrderReader } from '../../../../../src/modules/orders/infrastructure/mikro-orm-order-repository.ts';
import { ORDER_STATUS_TOPIC, toWireChange } from '../../../../../src/modules/orders/infrastructure/event-target-order-events.ts';
import { OrderLineRecord, OrderRecord, OrderStatusChangeRecord } from '../../../../../src/modules/orders/infrastructure/order.entities.ts';
import { OutboxRecord } from '../../../../../src/modules/orders/infrastructure/outbox.entity.ts';
import { useTestDatabase } from '../../../../support/test-database.ts';
import { describeOrderReaderContract } from '../../../../unit/modules/orders/contracts/order-reader.contract.ts';

// The PostgreSQL reader against the contract its in-memory fake passes too. Rows are written with
// MikroORM's inserts (the orders' own entities); the customer and product rows the foreign keys
// need are another module's tables, so plain statements make them.
const database = useTestDatabase();
const sql = (query: string, params: unknown[]) => database.orm.em.fork().getConnection().execute<{ number: number }[]>(query, params);

describeOrderReaderContract('MikroOrmOrderReader', () => ({
  reader: () => new MikroOrmOrderReader(database.orm.em.fork()),
  async customer() {
    const id = crypto.randomUUID();
    await sql('insert into customers (id, email, name, password_hash) values (?, ?, ?, ?)', [id, `${id}@example.com`, 'Test Customer', 'hash']);
    return id;
  },
  async product() {
    const id = crypto.randomUUID();
    await sql('insert into catalog_products (id, sku, name, price_minor, stock, active) values (?, ?, ?, ?, ?, ?)', [id, `P-${id.slice(0, 13).toUpperCase()}`, 'Widget', 1_000, 100, true]);
    return id;
  },
  async seed(draft, lines, history, options) {
    const em = database.orm.em.fork();
    // `number` is the database's (an identity column): left out of the insert, read back below.
    await em.insert(OrderRecord, { ...draft } as InferEntity<typeof OrderRecord>);
    if (lines.length > 0) await em.insertMany(OrderLineRecord, lines.map((line) => ({ ...line })));
    if (history.length > 0) await em.insertMany(OrderStatusChangeRecord, history.map((change) => ({ ...change })));
    // One statement, so one transaction: the rows share its transaction id (the column's default).
    if (options?.logged && history.length > 0) {
      await em.insertMany(
        OutboxRecord,
        history.map((change) => ({ topic: ORDER_STATUS_TOPIC, aggregateId: change.orderId, customerId: change.customerId, version: change.version, payload: toWireChange(change), createdAt: change.at })) as InferEntity<typeof OutboxRecord>[],
      );
    }
    const [row] = await sql('select number from orders where id = ?', [draft.id]);
    return { ...draft, number: row!.number };
  },
}));
