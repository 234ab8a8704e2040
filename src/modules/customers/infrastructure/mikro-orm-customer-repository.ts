import { UniqueConstraintViolationException, wrap, type EntityManager, type InferEntity } from '@mikro-orm/postgresql';
import { preparedSelect, slot } from '../../../platform/db/compiled-select.ts';
import { findPage } from '../../../platform/db/find-page.ts';
import type { PageWindow } from '../../../platform/pagination.ts';
import { isUuid } from '../../../platform/uuid.ts';
import type { Customer, CustomerTier } from '../domain/customer.ts';
import type { CustomerRepository } from '../application/ports.ts';
import { CustomerRecord } from './customer.entity.ts';

type Row = InferEntity<typeof CustomerRecord>;

/** What every read selects: the account, never its password hash (only sign-in reads that). */
const CUSTOMER_FIELDS = ['id', 'email', 'name', 'role', 'tier', 'createdAt', 'updatedAt'] as const satisfies readonly (keyof Customer & keyof Row)[];

// Statements MikroORM's QueryBuilder builds once (compiled-select.ts); the entity's property names
// are the domain's, so its plain rows are customers as they come (every order's customer comes
// through findByIds; no entity per row, ADR 0011).
const customersByIds = preparedSelect<Row, Customer>(CustomerRecord, (qb) => qb.select(CUSTOMER_FIELDS).where({ id: { $in: [slot('ids')] } }));
const accountByEmail = preparedSelect(CustomerRecord, (qb) => qb.select('*').where({ email: slot('email') }));

/**
 * {@link CustomerRepository} on MikroORM: plain-object reads; sign-up and tier changes in its unit
 * of work (an entity created, or loaded and changed, and flushed in one transaction).
 */
export class MikroOrmCustomerRepository implements CustomerRepository {
  readonly #em: EntityManager;
  constructor(em: EntityManager) {
    this.#em = em;
  }

  async findByIds(ids: readonly string[]): Promise<Customer[]> {
    // The column is `uuid`: anything else would reach PostgreSQL as a cast error instead of "not found".
    const valid = ids.filter((id) => isUuid(id));
    if (valid.length === 0) return [];
    return customersByIds.all(this.#em, { ids: valid });
  }

  async findByEmail(email: string): Promise<{ customer: Customer; passwordHash: string } | undefined> {
    const [row] = await accountByEmail.all(this.#em, { email });
    if (!row) return undefined;
    const { passwordHash, ...customer } = row;
    return { customer, passwordHash };
  }

  findPage(window: PageWindow) {
    return findPage<Row, Customer>(this.#em, CustomerRecord, { where: {}, orderBy: [['createdAt', 'asc'], ['id', 'asc']], window, fields: CUSTOMER_FIELDS });
  }

  async insert(customer: Customer, passwordHash: string): Promise<boolean> {
    try {
      await this.#em.transactional((em) => {
        em.create(CustomerRecord, { ...customer, passwordHash });
      });
      return true;
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) return false;
      throw error;
    }
  }

  async updateTier(id: string, tier: CustomerTier, at: Date): Promise<Customer | undefined> {
    if (!isUuid(id)) return undefined;
    return this.#em.transactional(async (em) => {
      const customer = await em.findOne(CustomerRecord, { id });
      if (!customer) return undefined;
      em.assign(customer, { tier, updatedAt: at });
      await em.flush();
      // toObject leaves out hidden properties: the password hash.
      return wrap(customer).toObject() as Customer;
    });
  }
}
