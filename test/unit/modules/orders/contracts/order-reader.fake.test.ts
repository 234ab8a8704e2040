import { InMemoryOrdersStore } from '../../../../fakes/orders.ts';
import { describeOrderReaderContract } from './order-reader.contract.ts';

// The store the orders' use-case tests read through passes the cases the PostgreSQL reader passes.
const store = new InMemoryOrdersStore();
let lastNumber = 0;
describeOrderReaderContract('InMemoryOrdersStore', () => ({
  reader: () => store,
  customer: async () => crypto.randomUUID(),
  product: async () => crypto.randomUUID(),
  async seed(draft, lines, history, options) {
    lastNumber += 1;
    const order = { ...draft, number: lastNumber };
    store.seed(order, lines, history, options);
    return order;
  },
}));
