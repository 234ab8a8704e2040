import { describe, expect, it } from 'vitest';
import { createCostBudgets, type BudgetTier, type CostBudgetSettings } from '../../../../src/graphql/security/cost-budget.ts';
import type { Viewer } from '../../../../src/platform/op-context.ts';
import { eventually } from '../../../support/eventually.ts';

const SETTINGS: CostBudgetSettings = { windowSeconds: 60, anonymous: 10, basic: 30, premium: 60, enterprise: 150, admin: 300 };
const customer = (customerId: string, role: 'CUSTOMER' | 'ADMIN' = 'CUSTOMER'): Viewer => ({ kind: 'customer', customerId, role });

/** Budgets in memory with a tier table the test can change, counting the tier reads. */
function budgetsWith(tiers: Map<string, BudgetTier>, settings: CostBudgetSettings = SETTINGS) {
  const reads: string[] = [];
  const budgets = createCostBudgets(settings, {
    tierOf: async (customerId) => {
      reads.push(customerId);
      if (customerId === 'broken') throw new Error('database unavailable');
      return tiers.get(customerId);
    },
  });
  return { budgets, reads };
}

describe('cost budgets in memory', () => {
  it.each([
    ['anonymous', { kind: 'anonymous' } as Viewer, SETTINGS.anonymous],
    ['an unknown customer (BASIC)', customer('nobody'), SETTINGS.basic],
    ['a BASIC customer', customer('b'), SETTINGS.basic],
    ['a PREMIUM customer', customer('p'), SETTINGS.premium],
    ['an ENTERPRISE customer', customer('e'), SETTINGS.enterprise],
    ['an admin', customer('a', 'ADMIN'), SETTINGS.admin],
  ])('gives %s its class budget', async (_name, viewer, budget) => {
    const { budgets } = budgetsWith(new Map([['b', 'BASIC'], ['p', 'PREMIUM'], ['e', 'ENTERPRISE']]));
    expect(await budgets.charge('id', viewer, 4)).toEqual({ report: { requested: 4, remaining: budget - 4, budget, resetAfterSeconds: 60 } });
  });

  it('has no budget for system viewers', async () => {
    const { budgets } = budgetsWith(new Map());
    expect(await budgets.charge('system:worker', { kind: 'system', name: 'worker' }, 1_000_000)).toBeUndefined();
  });

  it('reads the tier once per window, not per operation, and never for admins', async () => {
    const { budgets, reads } = budgetsWith(new Map([['p', 'PREMIUM']]));
    for (let i = 0; i < 5; i += 1) await budgets.charge('customer:p', customer('p'), 1);
    await Promise.all([1, 2, 3].map(() => budgets.charge('customer:q', customer('q'), 1)));
    await budgets.charge('customer:a', customer('a', 'ADMIN'), 1);
    expect(reads).toEqual(['p', 'q']);
  });

  it('refuses what does not fit without charging it, until the next window', async () => {
    const { budgets } = budgetsWith(new Map());
    expect((await budgets.charge('ip:a', { kind: 'anonymous' }, 6))?.report.remaining).toBe(4);
    const refused = await budgets.charge('ip:a', { kind: 'anonymous' }, 6);
    expect(refused).toEqual({ report: { requested: 6, remaining: 4, budget: 10, resetAfterSeconds: 60 }, refused: { retryAfterSeconds: 60 } });
    expect(await budgets.charge('ip:a', { kind: 'anonymous' }, 4)).toEqual({ report: { requested: 4, remaining: 0, budget: 10, resetAfterSeconds: 60 } });
    await budgets.refund('ip:a', 4);
    expect((await budgets.charge('ip:a', { kind: 'anonymous' }, 0))?.report.remaining).toBe(4);
  });

  it('keeps a window at the budget it opened with, and reads the tier again for the next one', async () => {
    const tiers = new Map<string, BudgetTier>([['c', 'BASIC']]);
    const { budgets, reads } = budgetsWith(tiers, { ...SETTINGS, windowSeconds: 1 });
    expect((await budgets.charge('customer:c', customer('c'), 1))?.report.budget).toBe(SETTINGS.basic);
    tiers.set('c', 'ENTERPRISE');
    expect((await budgets.charge('customer:c', customer('c'), 1))?.report.budget).toBe(SETTINGS.basic);
    // The window ends within 1 s: the first charge after it opens a window at the new tier.
    const next = await eventually(
      async () => {
        const charge = await budgets.charge('customer:c', customer('c'), 1);
        expect(charge?.report.budget).toBe(SETTINGS.enterprise);
        return charge;
      },
      { timeoutMs: 3_000, what: 'the next window' },
    );
    expect(next?.report.remaining).toBe(SETTINGS.enterprise - 1);
    expect(reads).toEqual(['c', 'c']);
  });

  it('budgets a customer whose tier cannot be read as BASIC for that operation, and reads again on the next', async () => {
    const { budgets, reads } = budgetsWith(new Map());
    expect((await budgets.charge('customer:broken', customer('broken'), 1))?.report.budget).toBe(SETTINGS.basic);
    await budgets.charge('customer:broken', customer('broken'), 1);
    expect(reads).toEqual(['broken', 'broken']);
  });
});
