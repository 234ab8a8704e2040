import type { EntityManager } from '@mikro-orm/postgresql';
import { inertChangeFeed, type ChangeFeed } from '../../platform/change-feed.ts';
import type { CrashPoints } from '../../platform/crash-points.ts';
import type { OpContext } from '../../platform/op-context.ts';
import type { ModuleDescriptor } from '../module-descriptor.ts';
import { createPaymentsApi, type PaymentsApi } from './application/api.ts';
import type { PaymentProvider, PaymentStatements } from './application/ports.ts';
import { orderIdOfChargeKey } from './domain/payment.ts';
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
  /** Where payment writes are published once over, for the response cache (ADR 0015; default: none). */
  readonly changes?: ChangeFeed;
}

/** The payments descriptor, plus what the orders module needs from it beyond its API. */
export interface PaymentsModule extends ModuleDescriptor<'payments', PaymentsApi> {
  /** Payment writes the orders module embeds in its own statements (`em`: the one they run on). */
  paymentStatements(em: EntityManager): PaymentStatements;
}

/**
 * The payments API whose writes publish the order whose payment they wrote, once the use case is
 * over: its statements are committed by then (each runs on its own, or in a transaction that has
 * ended), so every instance's response cache forgets the order and the payment under it (ADR
 * 0015). Payment writes have no order log entry of their own, hence this signal. Also published
 * when the use case throws, since it may have written first (an attempt's error noted, a refund
 * requested before the provider failed). Not published, as nothing was written: `sendCharge`
 * answered (the orders module records the answer with the order's status, under a log entry), a
 * provider event replayed or not ours. A needless publish (a refund of an unpaid order, a
 * reconciliation that found the payment settled) costs one invalidation.
 */
function publishingWrites(api: PaymentsApi, changes: ChangeFeed): PaymentsApi {
  const published =
    <I, R>(write: (op: OpContext, input: I) => Promise<R>, orderIdOf: (input: I) => string | undefined, wrote: (result: R) => boolean = () => true) =>
    async (op: OpContext, input: I): Promise<R> => {
      const tell = () => {
        const orderId = orderIdOf(input);
        if (orderId) changes.publish([{ kind: 'payment', orderId }]);
      };
      let result: R;
      try {
        result = await write(op, input);
      } catch (error) {
        tell();
        throw error;
      }
      if (wrote(result)) tell();
      return result;
    };
  const ofOrder = (input: { readonly orderId: string }) => input.orderId;
  return {
    ...api,
    chargeOrder: published(api.chargeOrder, ofOrder),
    sendCharge: published(api.sendCharge, ofOrder, () => false),
    settleCharge: published(api.settleCharge, ofOrder),
    refundOrder: published(api.refundOrder, ofOrder),
    reconcilePayment: published(api.reconcilePayment, ofOrder),
    recordProviderEvent: published(api.recordProviderEvent, (event) => orderIdOfChargeKey(event.idempotencyKey), (result) => result.applied),
  };
}

/**
 * The payments module: charges, refunds, provider events, reconciliation of unknown outcomes. Its
 * writes are published on `deps.changes` (see publishingWrites); those embedded in the orders
 * module's statements (paymentStatements) are not: they commit with an order log entry, which
 * every instance reads.
 */
export function createPaymentsModule(deps: PaymentsModuleDeps): PaymentsModule {
  const { provider } = deps;
  const changes = deps.changes ?? inertChangeFeed;
  return {
    name: 'payments',
    entities: paymentsEntities,
    migrations: paymentsMigrations,
    forRequest: (scope) =>
      publishingWrites(
        createPaymentsApi({
          payments: new MikroOrmPaymentRepository(scope.em),
          uow: new MikroOrmPaymentsUnitOfWork(scope.em),
          provider,
          timeoutMs: deps.callBudgetMs,
          crashPoints: deps.crashPoints,
        }),
        changes,
      ),
    graphql: (builder, refs) => registerPaymentsGraphQL(builder, refs.common),
    paymentStatements: (em) => new MikroOrmPaymentStatements(em),
    ...(provider.breakerState ? { gauges: { paymentCircuitBreaker: () => provider.breakerState?.() } } : {}),
  };
}
