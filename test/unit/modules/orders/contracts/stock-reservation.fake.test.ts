import { InMemoryOrdersStore } from '../../../../fakes/orders.ts';
import { describeStockReservationContract } from './stock-reservation.contract.ts';

// The store the orders' use-case tests write through reserves stock as the PostgreSQL unit of work does.
const store = new InMemoryOrdersStore();
describeStockReservationContract('InMemoryOrdersStore', () => ({
  uow: () => store,
  async product({ stock, active }) {
    const id = crypto.randomUUID();
    store.setStock(id, stock, { active: active ?? true });
    return id;
  },
  stockOf: async (productId) => store.stockOf(productId),
}));
