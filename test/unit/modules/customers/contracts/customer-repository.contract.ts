import { beforeAll, describe, expect, it } from 'vitest';
import type { Customer } from '../../../../../src/modules/customers/domain/customer.ts';
import type { CustomerRepository } from '../../../../../src/modules/customers/application/ports.ts';
import type { PageWindow } from '../../../../../src/platform/pagination.ts';
import { walkBackward, walkForward } from '../../../../support/paging.ts';

// The CustomerRepository contract: the cases the in-memory fake (test/fakes/customers.ts, run by
// customer-repository.fake.test.ts) and the PostgreSQL repository (run by
// test/integration/modules/customers/contracts/customer-repository.postgres.test.ts) both pass.
// The list has no filter, so the paging cases compare only their own accounts, created before
// any other case's.

const accountOf = (fields: Partial<Customer> = {}): Customer => {
  const at = fields.createdAt ?? new Date('2026-02-01T10:00:00.000Z');
  return { id: crypto.randomUUID(), email: `${crypto.randomUUID()}@example.com`, name: 'Ada Lovelace', role: 'CUSTOMER', tier: 'BASIC', createdAt: at, updatedAt: at, ...fields };
};

/** Runs the contract against the repositories `repo` returns (they must share one store). */
export function describeCustomerRepositoryContract(name: string, repo: () => CustomerRepository): void {
  describe(`${name}: the CustomerRepository contract`, () => {
    it('stores an account and reads it back by id, never with its password hash', async () => {
      const customer = accountOf({ role: 'ADMIN', tier: 'PREMIUM' });
      expect(await repo().insert(customer, '$argon2id$hash')).toBe(true);
      const found = await repo().findByIds([customer.id]);
      expect(found).toEqual([customer]);
      expect(found[0]).not.toHaveProperty('passwordHash');
    });

    it('leaves out missing ids and anything that is not a UUID; [] for none', async () => {
      const customer = accountOf();
      await repo().insert(customer, 'h');
      expect(await repo().findByIds(['not-a-uuid', crypto.randomUUID(), customer.id])).toEqual([customer]);
      expect(await repo().findByIds([])).toEqual([]);
    });

    it('finds an account by e-mail with its password hash; undefined for an unknown one', async () => {
      const customer = accountOf();
      await repo().insert(customer, '$argon2id$the-hash');
      expect(await repo().findByEmail(customer.email)).toEqual({ customer, passwordHash: '$argon2id$the-hash' });
      expect(await repo().findByEmail(`nobody-${crypto.randomUUID()}@example.com`)).toBeUndefined();
    });

    it('answers false for a second account with the same e-mail and keeps the first', async () => {
      const first = accountOf();
      expect(await repo().insert(first, 'h1')).toBe(true);
      expect(await repo().insert(accountOf({ email: first.email }), 'h2')).toBe(false);
      expect(await repo().findByEmail(first.email)).toEqual({ customer: first, passwordHash: 'h1' });
    });

    it('changes the tier and updatedAt and nothing else; undefined for a missing or malformed id', async () => {
      const customer = accountOf();
      await repo().insert(customer, 'kept-hash');
      const at = new Date('2026-05-05T05:05:05.000Z');
      const changed = { ...customer, tier: 'ENTERPRISE' as const, updatedAt: at };
      expect(await repo().updateTier(customer.id, 'ENTERPRISE', at)).toEqual(changed);
      expect(await repo().findByEmail(customer.email)).toEqual({ customer: changed, passwordHash: 'kept-hash' });
      expect(await repo().updateTier(crypto.randomUUID(), 'PREMIUM', at)).toBeUndefined();
      expect(await repo().updateTier('nope', 'PREMIUM', at)).toBeUndefined();
    });

    describe('findPage', () => {
      // Older than every other case's account, so these lead the list in this order.
      const base = Date.UTC(2001, 0, 1);
      const same = new Date(base + 2_000);
      const mine = [new Date(base + 3_000), same, new Date(base + 1_000), same, new Date(base)].map((createdAt) => accountOf({ createdAt }));
      const expected = [...mine].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((c) => c.id);
      beforeAll(async () => {
        for (const customer of mine) await repo().insert(customer, 'h');
      });
      const page = async (window: PageWindow) => {
        const result = await repo().findPage(window);
        if (!result.ok) throw result.error;
        return result.value;
      };
      const ownIds = (ids: readonly string[]) => ids.filter((id) => expected.includes(id));

      it('orders by createdAt, then id, and pages both ways over every account once', async () => {
        expect((await page({ first: 5 })).edges.map((edge) => edge.node.id)).toEqual(expected);
        const forward = await walkForward(page, 2);
        expect(ownIds(forward)).toEqual(expected);
        expect(new Set(forward).size).toBe(forward.length);
        expect(ownIds(await walkBackward(page, 3))).toEqual(expected);
      });

      it('counts every account, with or without the count in the page read', async () => {
        const all = (await walkForward(page, 50)).length;
        expect(await (await page({ first: 1 })).totalCount()).toBe(all);
        expect(await (await page({ first: 1, withTotalCount: true })).totalCount()).toBe(all);
        const second = await page({ first: 1, after: (await page({ first: 1 })).pageInfo.endCursor ?? undefined, withTotalCount: true });
        expect(await second.totalCount()).toBe(all);
      });

      it('refuses a cursor it did not issue with VALIDATION_FAILED', async () => {
        for (const window of [{ first: 2, after: 'bm90LWEtY3Vyc29y' }, { last: 2, before: 'bm90LWEtY3Vyc29y' }] satisfies PageWindow[]) {
          const result = await repo().findPage(window);
          expect(!result.ok && result.error.code).toBe('VALIDATION_FAILED');
        }
      });
    });
  });
}
