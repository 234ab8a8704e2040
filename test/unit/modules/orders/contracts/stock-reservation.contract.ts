import { describe, expect, it } from 'vitest';
import type { OrdersUnitOfWork } from '../../../../../src/modules/orders/application/ports.ts';
import { err, ok } from '../../../../../src/platform/result.ts';

// The stock half of the OrdersTransaction contract: what the in-memory store's transactions
// (test/fakes/orders.ts, run by stock-reservation.fake.test.ts) and the PostgreSQL unit of work
// with the catalog's conditional updates (run by
// test/integration/modules/orders/contracts/stock-reservation.postgres.test.ts) both do. The
// fake once took stock of an inactive product, which the SQL refuses.

/** What a contract run needs: the unit of work and the products it reserves from. */
export interface StockReservationHarness {
  readonly uow: () => OrdersUnitOfWork;
  /** A product with this stock, active unless said otherwise. @returns its id. */
  product(fields: { readonly stock: number; readonly active?: boolean }): Promise<string>;
  /** The committed stock of a product. */
  stockOf(productId: string): Promise<number | undefined>;
}

/** Runs the contract against the harness's unit of work. */
export function describeStockReservationContract(name: string, harness: () => StockReservationHarness): void {
  describe(`${name}: reserving and releasing stock in a transaction`, () => {
    const h = () => harness();
    /** Reserves in a transaction of its own, committed when every line was taken, rolled back otherwise. */
    const reserve = (lines: { productId: string; quantity: number }[]) =>
      h()
        .uow()
        .transaction(async (tx) => {
          const short = await tx.reserveStock(lines);
          return short === undefined ? ok(undefined) : err(short);
        });

    it('takes every line when all have stock', async () => {
      const [a, b] = [await h().product({ stock: 5 }), await h().product({ stock: 3 })];
      expect(await reserve([{ productId: a, quantity: 5 }, { productId: b, quantity: 1 }])).toEqual(ok(undefined));
      expect([await h().stockOf(a), await h().stockOf(b)]).toEqual([0, 2]);
    });

    it('answers the product that lacks stock, and the rolled-back transaction takes none', async () => {
      const [plenty, scarce] = [await h().product({ stock: 10 }), await h().product({ stock: 1 })];
      expect(await reserve([{ productId: plenty, quantity: 3 }, { productId: scarce, quantity: 2 }])).toEqual(err(scarce));
      expect([await h().stockOf(plenty), await h().stockOf(scarce)]).toEqual([10, 1]);
    });

    it('refuses an inactive product, even with stock', async () => {
      const inactive = await h().product({ stock: 50, active: false });
      expect(await reserve([{ productId: inactive, quantity: 1 }])).toEqual(err(inactive));
      expect(await h().stockOf(inactive)).toBe(50);
    });

    it('answers an unknown product as lacking stock', async () => {
      const unknown = crypto.randomUUID();
      expect(await reserve([{ productId: unknown, quantity: 1 }])).toEqual(err(unknown));
    });

    it('puts released units back', async () => {
      const product = await h().product({ stock: 2 });
      const released = await h()
        .uow()
        .transaction(async (tx) => ok(await tx.releaseStock([{ productId: product, quantity: 3 }])));
      expect(released.ok).toBe(true);
      expect(await h().stockOf(product)).toBe(5);
    });
  });
}
