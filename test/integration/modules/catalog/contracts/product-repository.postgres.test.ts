import { MikroOrmProductRepository } from '../../../../../src/modules/catalog/infrastructure/mikro-orm-product-repository.ts';
import { useTestDatabase } from '../../../../support/test-database.ts';
import { describeProductRepositoryContract } from '../../../../unit/modules/catalog/contracts/product-repository.contract.ts';

// The PostgreSQL repository against the contract its in-memory fake passes too.
const database = useTestDatabase();
describeProductRepositoryContract('MikroOrmProductRepository', () => new MikroOrmProductRepository(database.orm.em.fork()));
