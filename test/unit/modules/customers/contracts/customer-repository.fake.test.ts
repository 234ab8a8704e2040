import { InMemoryCustomerRepository } from '../../../../fakes/customers.ts';
import { describeCustomerRepositoryContract } from './customer-repository.contract.ts';

// The fake the customers' use-case tests stand on passes the cases the PostgreSQL repository passes.
const store = new InMemoryCustomerRepository();
describeCustomerRepositoryContract('InMemoryCustomerRepository', () => store);
