import type { Customer } from '../../src/modules/customers/domain/customer.ts';
import type { CustomerRepository, IdempotentCustomerWrites } from '../../src/modules/customers/application/ports.ts';
import { InMemoryIdempotentWrites } from './idempotency.ts';

/** In-memory {@link IdempotentCustomerWrites} (see InMemoryIdempotentWrites). */
export class InMemoryIdempotentCustomerWrites extends InMemoryIdempotentWrites<Customer, CustomerRepository> implements IdempotentCustomerWrites {}
