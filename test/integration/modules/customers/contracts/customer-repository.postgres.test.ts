import { MikroOrmCustomerRepository } from '../../../../../src/modules/customers/infrastructure/mikro-orm-customer-repository.ts';
import { useTestDatabase } from '../../../../support/test-database.ts';
import { describeCustomerRepositoryContract } from '../../../../unit/modules/customers/contracts/customer-repository.contract.ts';

// The PostgreSQL repository against the contract its in-memory fake passes too.
const database = useTestDatabase();
describeCustomerRepositoryContract('MikroOrmCustomerRepository', () => new MikroOrmCustomerRepository(database.orm.em.fork()));
