import { describe, it, expect } from 'vitest';
import { createListCustomers } from '../../../../../src/modules/customers/application/list-customers.ts';
import { InMemoryCustomerRepository, ops } from '../../../../fakes/customers.ts';

const setup = () => {
  const customers = new InMemoryCustomerRepository();
  const seeded = ['c@example.com', 'a@example.com', 'b@example.com'].map((email, i) =>
    customers.seed({ email, createdAt: new Date(Date.UTC(2026, 0, 3 - i)) }),
  );
  return { seeded, listCustomers: createListCustomers({ customers }) };
};

describe('listCustomers', () => {
  it('pages every account oldest first for an admin', async () => {
    const { listCustomers } = setup();
    const first = await listCustomers(ops.admin(), { first: 2 });
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(first.value.edges.map((edge) => edge.node.email)).toEqual(['b@example.com', 'a@example.com']);
    expect(first.value.pageInfo.hasNextPage).toBe(true);
    const next = await listCustomers(ops.admin(), { first: 2, after: first.value.pageInfo.endCursor });
    expect(next.ok && next.value.edges.map((edge) => edge.node.email)).toEqual(['c@example.com']);
    expect(await first.value.totalCount()).toBe(3);
  });

  it.each([
    ['an anonymous caller', 'UNAUTHENTICATED', ops.anonymous()],
    ['a customer', 'FORBIDDEN', ops.customer(crypto.randomUUID())],
  ])('refuses %s with %s', async (_label, code, op) => {
    const { listCustomers } = setup();
    const result = await listCustomers(op, { first: 10 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(code);
  });

  it('refuses bad pagination arguments', async () => {
    const { listCustomers } = setup();
    const result = await listCustomers(ops.admin(), { first: 101 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('VALIDATION_FAILED');
  });
});
