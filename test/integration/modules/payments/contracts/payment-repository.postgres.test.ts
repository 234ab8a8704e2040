import { MikroOrmPaymentRepository } from '../../../../../src/modules/payments/infrastructure/mikro-orm-payment-repository.ts';
import { useTestDatabase } from '../../../../support/test-database.ts';
import { describePaymentRepositoryContract } from '../../../../unit/modules/payments/contracts/payment-repository.contract.ts';

// The PostgreSQL repository against the contract its in-memory fake passes too.
const database = useTestDatabase();
describePaymentRepositoryContract('MikroOrmPaymentRepository', () => new MikroOrmPaymentRepository(database.orm.em.fork()));
