import { ValidationError } from '../../src/platform/errors.ts';
import { anonymous, systemContext, type OpContext, type Role } from '../../src/platform/op-context.ts';
import type { Page, PageWindow } from '../../src/platform/pagination.ts';
import { err, ok, type Result } from '../../src/platform/result.ts';
import type { Customer, CustomerTier } from '../../src/modules/customers/domain/customer.ts';
import type { CustomerRepository, PasswordHasher, TokenIssuer } from '../../src/modules/customers/application/ports.ts';

/** In-memory {@link CustomerRepository} with the same contract as the database one (unique e-mail, page order). */
export class InMemoryCustomerRepository implements CustomerRepository {
  readonly rows = new Map<string, { customer: Customer; passwordHash: string }>();
  /** Every findByIds call's ids, to assert what was (not) looked up. */
  readonly lookups: string[][] = [];

  async findByIds(ids: readonly string[]): Promise<Customer[]> {
    this.lookups.push([...ids]);
    return ids.flatMap((id) => {
      const row = this.rows.get(id);
      return row ? [row.customer] : [];
    });
  }

  async findByEmail(email: string): Promise<{ customer: Customer; passwordHash: string } | undefined> {
    return [...this.rows.values()].find((row) => row.customer.email === email);
  }

  /** Cursors are customer ids (opaque enough for use-case tests). */
  async findPage(window: PageWindow): Promise<Result<Page<Customer>, ValidationError>> {
    const all = [...this.rows.values()]
      .map((row) => row.customer)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
    const indexOf = (cursor: string | undefined, argument: 'after' | 'before') => {
      if (cursor === undefined) return { ok: true as const, index: undefined };
      const index = all.findIndex((c) => c.id === cursor);
      return index < 0 ? { ok: false as const, error: ValidationError.of([argument], 'is not a cursor') } : { ok: true as const, index };
    };
    let items: Customer[];
    let hasNextPage = false;
    let hasPreviousPage = false;
    if (window.first !== undefined) {
      const after = indexOf(window.after, 'after');
      if (!after.ok) return err(after.error);
      const start = after.index === undefined ? 0 : after.index + 1;
      items = all.slice(start, start + window.first);
      hasNextPage = start + window.first < all.length;
      hasPreviousPage = start > 0;
    } else {
      const before = indexOf(window.before, 'before');
      if (!before.ok) return err(before.error);
      const end = before.index ?? all.length;
      const start = Math.max(0, end - window.last);
      items = all.slice(start, end);
      hasPreviousPage = start > 0;
      hasNextPage = end < all.length;
    }
    return ok({
      edges: items.map((node) => ({ node, cursor: node.id })),
      pageInfo: { hasNextPage, hasPreviousPage, startCursor: items[0]?.id ?? null, endCursor: items.at(-1)?.id ?? null },
      totalCount: async () => all.length,
    });
  }

  async insert(customer: Customer, passwordHash: string): Promise<boolean> {
    if (await this.findByEmail(customer.email)) return false;
    this.rows.set(customer.id, { customer, passwordHash });
    return true;
  }

  async updateTier(id: string, tier: CustomerTier, at: Date): Promise<Customer | undefined> {
    const row = this.rows.get(id);
    if (!row) return undefined;
    const customer = { ...row.customer, tier, updatedAt: at };
    this.rows.set(id, { ...row, customer });
    return customer;
  }

  /** Stores an account directly (test set-up), with the hash {@link FakePasswordHasher} gives `password`. */
  seed(fields: Partial<Customer> & { readonly email: string }, password = 'correct horse'): Customer {
    const at = fields.createdAt ?? new Date('2026-01-01T00:00:00Z');
    const customer: Customer = { id: crypto.randomUUID(), name: 'Test Customer', role: 'CUSTOMER', tier: 'BASIC', createdAt: at, updatedAt: at, ...fields };
    this.rows.set(customer.id, { customer, passwordHash: FakePasswordHasher.hashOf(password) });
    return customer;
  }
}

/** Reversible stand-in for argon2 that records what it was asked to verify. */
export class FakePasswordHasher implements PasswordHasher {
  readonly verified: { hash: string; password: string }[] = [];
  readonly hashed: string[] = [];

  static hashOf(password: string): string {
    return `fake$${password}`;
  }

  async hash(password: string): Promise<string> {
    this.hashed.push(password);
    return FakePasswordHasher.hashOf(password);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    this.verified.push({ hash, password });
    return hash === FakePasswordHasher.hashOf(password);
  }
}

/** Issues `token:<customerId>:<role>` tokens that expire an hour after `now`. */
export class FakeTokenIssuer implements TokenIssuer {
  readonly now: Date;
  constructor(now = new Date('2026-01-01T00:00:00Z')) {
    this.now = now;
  }

  async issue(claims: { readonly customerId: string; readonly role: Role }): Promise<{ accessToken: string; expiresAt: Date }> {
    return { accessToken: `token:${claims.customerId}:${claims.role}`, expiresAt: new Date(this.now.getTime() + 3_600_000) };
  }
}

const op = (viewer: OpContext['viewer']): OpContext => ({ signal: new AbortController().signal, viewer, requestId: 'test' });

/** Operation contexts for each kind of caller. */
export const ops = {
  anonymous: (): OpContext => op(anonymous),
  customer: (customerId: string): OpContext => op({ kind: 'customer', customerId, role: 'CUSTOMER' }),
  admin: (customerId: string = crypto.randomUUID()): OpContext => op({ kind: 'customer', customerId, role: 'ADMIN' }),
  system: (): OpContext => systemContext('test'),
};
