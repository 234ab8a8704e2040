import type { EntityManager } from '@mikro-orm/postgresql';
import type { CrashPoints } from '../../platform/crash-points.ts';
import type { ModuleDescriptor } from '../module-descriptor.ts';
import { createPaymentsApi, type PaymentsApi } from './application/api.ts';
import type { PaymentProvider, PaymentStatements } from './application/ports.ts';
import { registerPaymentsGraphQL } from './graphql/index.ts';
import { Migration20261121000400Payments } from './infrastructure/migrations/Migration20261121000400Payments.ts';
import { Migration20261121000600PaymentsRecovery } from './infrastructure/migrations/Migration20261121000600PaymentsRecovery.ts';
import { MikroOrmPaymentRepository, MikroOrmPaymentStatements, MikroOrmPaymentsUnitOfWork } from './infrastructure/mikro-orm-payment-repository.ts';
import { PaymentRecord, ProviderEventRecord } from './infrastructure/payment.entity.ts';

// What the composition root, the webhook transport, scripts and tests wire by hand.
export { createPaymentProvider } from './infrastructure/provider-factory.ts';
export { createHttpPaymentProvider, HttpPaymentProvider, type HttpPaymentProviderOptions } from './infrastructure/http-payment-provider.ts';
export {
  SimulatedPaymentProvider,
  type SimulatedCharge,
  type SimulatedPaymentProviderOptions,
  type SimulatedRefund,
} from './infrastructure/simulated-payment-provider.ts';
export { verifyWebhookSignature, signWebhook, parseProviderEvent, type SignatureCheck } from './infrastructure/webhook.ts';

/** MikroORM entity schemas of the payments module (also for tooling: migrations, seeding). */
export const paymentsEntities = [PaymentRecord, ProviderEventRecord] as const;
/** The payments module's migrations, named as they are recorded in `mikro_orm_migrations`. */
export const paymentsMigrations = [
  { name: 'Migration20261121000400Payments', class: Migration20261121000400Payments },
  { name: 'Migration20261121000600PaymentsRecovery', class: Migration20261121000600PaymentsRecovery },
] as const;

/** What the payments module is made from. */
export interface PaymentsModuleDeps {
  /** Process-wide: its circuit breaker and connection pool are shared (createPaymentProvider). */
  readonly provider: PaymentProvider & { breakerState?: () => string };
  /** Bound of each provider call, in ms (config `payments.callBudgetMs`). */
  readonly callBudgetMs: number;
  readonly crashPoints?: CrashPoints;
}

/** The payments descriptor, plus what the orders module needs from it beyond its API. */
export interface PaymentsModule extends ModuleDescriptor<'payments', PaymentsApi> {
  /** Payment writes the orders module embeds in its own statements (`em`: the one they run on). */
  paymentStatements(em: EntityManager): PaymentStatements;
}

/** The payments module: charges, refunds, provider events, reconciliation of unknown outcomes. */
export function createPaymentsModule(deps: PaymentsModuleDeps): PaymentsModule {
  const { provider } = deps;
  return {
    name: 'payments',
    entities: paymentsEntities,
    migrations: paymentsMigrations,
    forRequest: (scope) =>
      createPaymentsApi({
        payments: new MikroOrmPaymentRepository(scope.em),
        uow: new MikroOrmPaymentsUnitOfWork(scope.em),
        provider,
        timeoutMs: deps.callBudgetMs,
        crashPoints: deps.crashPoints,
      }),
    graphql: (builder, refs) => registerPaymentsGraphQL(builder, refs.common),
    paymentStatements: (em) => new MikroOrmPaymentStatements(em),
    ...(provider.breakerState ? { gauges: { paymentCircuitBreaker: () => provider.breakerState?.() } } : {}),
  };
}
