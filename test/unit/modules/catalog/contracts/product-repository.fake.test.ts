import { InMemoryProductRepository } from '../../../../fakes/catalog.ts';
import { describeProductRepositoryContract } from './product-repository.contract.ts';

// The fake the catalog's use-case tests stand on passes the cases the PostgreSQL repository passes.
const store = new InMemoryProductRepository();
describeProductRepositoryContract('InMemoryProductRepository', () => store);
