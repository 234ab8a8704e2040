import { UniqueConstraintViolationException, type EntityManager, type InferEntity } from '@mikro-orm/postgresql';
import { findPage } from '../../../platform/db/find-page.ts';
import type { PageWindow } from '../../../platform/pagination.ts';
import type { Customer, CustomerTier } from '../domain/customer.ts';
import type { CustomerRepository } from '../application/ports.ts';
import { CustomerRecord } from './customer.entity.ts';
import { isUuid } from '../../../platform/uuid.ts';

type Row = InferEntity<typeof CustomerRecord>;

const toCustomer = (row: Pick<Row, keyof Customer>): Customer => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  tier: row.tier,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

// The column is `uuid`: anything else would reach PostgreSQL as a cast error instead of "not found".
/** {@link CustomerRepository} on MikroORM; reads bypass the identity map and load the password hash only for sign-in. */
export class MikroOrmCustomerRepository implements CustomerRepository {
  readonly #em: EntityManager;
  constructor(em: EntityManager) {
    this.#em = em;
  }

  async findByIds(ids: readonly string[]): Promise<Customer[]> {
    const valid = ids.filter((id) => isUuid(id));
    if (valid.length === 0) return [];
    // Raw rather than em.find: every order's customer comes through here, and MikroORM builds an
    // entity per row even with the identity map off (issue #6). Never the password hash.
    const rows = await this.#em.getConnection().execute<Pick<Row, keyof Customer>[]>(
      `select id, email, name, role, tier, created_at as "createdAt", updated_at as "updatedAt" from customers where id in (?)`,
      [valid],
      'all',
      this.#em.getTransactionContext(),
    );
    return rows.map((row) => toCustomer({ ...row, createdAt: new Date(row.createdAt), updatedAt: new Date(row.updatedAt) }));
  }

  async findByEmail(email: string): Promise<{ customer: Customer; passwordHash: string } | undefined> {
    const row = await this.#em.findOne(CustomerRecord, { email }, { disableIdentityMap: true });
    return row ? { customer: toCustomer(row), passwordHash: row.passwordHash } : undefined;
  }

  findPage(window: PageWindow) {
    return findPage(this.#em, CustomerRecord, {
      where: {},
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      window,
      map: toCustomer,
    });
  }

  async insert(customer: Customer, passwordHash: string): Promise<boolean> {
    try {
      await this.#em.insert(CustomerRecord, { ...customer, passwordHash });
      return true;
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) return false;
      throw error;
    }
  }

  async updateTier(id: string, tier: CustomerTier, at: Date): Promise<Customer | undefined> {
    if (!isUuid(id)) return undefined;
    const changed = await this.#em.nativeUpdate(CustomerRecord, { id }, { tier, updatedAt: at });
    if (changed === 0) return undefined;
    const [customer] = await this.findByIds([id]);
    return customer;
  }
}
