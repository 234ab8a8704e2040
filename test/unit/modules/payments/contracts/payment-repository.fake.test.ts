import { InMemoryPaymentRepository } from '../../../../fakes/payments.ts';
import { describePaymentRepositoryContract } from './payment-repository.contract.ts';

// The fake the payments' use-case tests stand on passes the cases the PostgreSQL repository passes.
const store = new InMemoryPaymentRepository();
describePaymentRepositoryContract('InMemoryPaymentRepository', () => store);
