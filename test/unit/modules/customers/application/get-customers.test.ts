import { describe, it, expect } from 'vitest';
import { createGetCustomers } from '../../../../../src/modules/customers/application/get-customers.ts';
import { InMemoryCustomerRepository, ops } from '../../../../fakes/customers.ts';

const setup = () => {
  const customers = new InMemoryCustomerRepository();
  const ada = customers.seed({ email: 'ada@example.com' });
  const bob = customers.seed({ email: 'bob@example.com' });
  return { customers, ada, bob, getCustomers: createGetCustomers({ customers }) };
};
const missing = '00000000-0000-4000-8000-000000000000';

describe('getCustomers', () => {
  it('gives an admin every requested account, in request order, null for missing ids', async () => {
    const { ada, bob, getCustomers } = setup();
    expect(await getCustomers(ops.admin(), [bob.id, missing, ada.id, bob.id])).toEqual([bob, null, ada, bob]);
  });

  it('gives a customer their own account', async () => {
    const { ada, getCustomers } = setup();
    expect(await getCustomers(ops.customer(ada.id), [ada.id])).toEqual([ada]);
  });

  it("makes another customer's id look exactly like a missing one", async () => {
    const { customers, ada, bob, getCustomers } = setup();
    const [other, absent] = await getCustomers(ops.customer(ada.id), [bob.id, missing]);
    expect(other).toBeNull();
    expect(other).toStrictEqual(absent);
    // Neither is even looked up, so timing does not tell them apart either.
    expect(customers.lookups).toEqual([]);
  });

  it('gives anonymous callers nothing', async () => {
    const { ada, bob, getCustomers } = setup();
    expect(await getCustomers(ops.anonymous(), [ada.id, bob.id])).toEqual([null, null]);
  });

  it('lets the system see every account', async () => {
    const { ada, getCustomers } = setup();
    expect(await getCustomers(ops.system(), [ada.id])).toEqual([ada]);
  });
});
