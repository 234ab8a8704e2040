import type { GraphQLContext } from '../graphql/context.ts';
import type { Logger } from '../platform/logger.ts';
import { parseMinor } from '../platform/money.ts';
import { systemContext, type OpContext } from '../platform/op-context.ts';

/** Demo accounts (README lists them). Development data only: never loaded in production. */
export const DEMO_ACCOUNTS = [
  { email: 'admin@ordergraph.dev', password: 'admin-demo-pass', name: 'Ada Admin', role: 'ADMIN', tier: 'BASIC' },
  { email: 'basic@ordergraph.dev', password: 'demo-pass-basic', name: 'Bea Basic', role: 'CUSTOMER', tier: 'BASIC' },
  { email: 'premium@ordergraph.dev', password: 'demo-pass-premium', name: 'Pim Premium', role: 'CUSTOMER', tier: 'PREMIUM' },
  { email: 'enterprise@ordergraph.dev', password: 'demo-pass-enterprise', name: 'Eli Enterprise', role: 'CUSTOMER', tier: 'ENTERPRISE' },
] as const;

/** Demo products: [sku, name, price, stock]. */
export const DEMO_PRODUCTS: readonly (readonly [string, string, string, number])[] = [
  ['MUG-CLASSIC', 'Classic mug', '12.50', 120],
  ['MUG-TRAVEL', 'Travel mug', '24.00', 60],
  ['TEE-LOGO-M', 'Logo T-shirt (M)', '19.99', 80],
  ['TEE-LOGO-L', 'Logo T-shirt (L)', '19.99', 75],
  ['HOOD-GREY', 'Grey hoodie', '49.00', 40],
  ['CAP-NAVY', 'Navy cap', '15.00', 90],
  ['SOCK-3PK', 'Socks, three pairs', '9.95', 200],
  ['NOTE-A5', 'A5 notebook', '7.49', 300],
  ['PEN-GEL', 'Gel pen', '2.35', 500],
  ['BAG-TOTE', 'Canvas tote bag', '14.90', 110],
  ['BOTTLE-750', 'Steel bottle 750 ml', '29.00', 70],
  ['STICK-PACK', 'Sticker pack', '4.99', 400],
  ['LAMP-DESK', 'Desk lamp', '64.00', 25],
  ['KEYB-MECH', 'Mechanical keyboard', '129.00', 15],
  ['MOUSE-WL', 'Wireless mouse', '39.90', 35],
  ['CHAIR-ERGO', 'Ergonomic chair', '449.00', 8],
  ['DESK-STAND', 'Standing desk', '899.00', 5],
  ['MONITOR-27', '27" monitor', '1299.00', 6],
  ['PLANT-MINI', 'Mini succulent', '8.00', 50],
  ['LAST-ONE', 'Limited poster (last units)', '35.00', 3],
];

/**
 * Loads the demo accounts and products. Idempotent: existing accounts and SKUs are left as they
 * are, so restarts keep what a developer changed.
 */
export async function seedDemoData(createContext: (op: OpContext) => GraphQLContext, currency: string, logger: Logger): Promise<void> {
  const op = systemContext('seed');
  const ctx = createContext(op);
  for (const account of DEMO_ACCOUNTS) {
    const result = await ctx.customers.registerCustomer(op, { ...account });
    if (!result.ok) throw new Error(`demo account ${account.email}: ${result.error.message}`);
  }
  let created = 0;
  for (const [sku, name, price, stock] of DEMO_PRODUCTS) {
    const priceMinor = parseMinor(price, currency);
    if (priceMinor === undefined) throw new Error(`demo price ${price} is not valid in ${currency}`);
    const result = await ctx.catalog.createProduct(op, { sku, name, description: `${name} from the demo catalog.`, priceMinor, stock });
    if (result.ok) created += 1;
    else if (result.error.code !== 'VALIDATION_FAILED') throw result.error;
  }
  logger.info({ accounts: DEMO_ACCOUNTS.length, productsCreated: created }, 'demo data loaded');
}
