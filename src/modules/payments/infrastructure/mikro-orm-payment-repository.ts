import { raw, type EntityManager, type InferEntity } from '@mikro-orm/postgresql';
import { compileSelect, preparedSelect, slot } from '../../../platform/db/compiled-select.ts';
import { fragmentOf, perOrm, sqlNames } from '../../../platform/db/sql-parts.ts';
import type { SqlFragment } from '../../../platform/db/sql-fragment.ts';
import type { Payment } from '../domain/payment.ts';
import { newPendingPayment } from '../application/charge-order.ts';
import type { ChargeOutcome, PaymentRepository, PaymentStatements, PaymentsUnitOfWork, ProviderEventLog } from '../application/ports.ts';
import { PaymentRecord, ProviderEventRecord } from './payment.entity.ts';

type Row = InferEntity<typeof PaymentRecord>;

// Reads are statements MikroORM's QueryBuilder builds once (compiled-select.ts); the entity's
// property names and types are the domain's, so its plain rows (NULL as null) are payments as they
// come (`Order.payment`'s DataLoader reads through findByOrderIds; no entity per row, ADR 0011).
const paymentsOfOrders = preparedSelect(PaymentRecord, (qb) => qb.select('*').where({ orderId: { $in: [slot('orderIds')] } }));
const stalePending = preparedSelect(PaymentRecord, (qb) =>
  qb
    .select('*')
    .where({ status: 'PENDING', updatedAt: { $lt: slot('before') } })
    .orderBy({ createdAt: 'asc' })
    .limit(slot<number>('limit')),
);
const unfinishedRefunds = preparedSelect(PaymentRecord, (qb) =>
  qb
    .select('*')
    .where({ status: { $in: ['SUCCEEDED', 'VOIDED'] }, refundRequestedAt: { $ne: null, $lt: slot('before') } })
    .orderBy({ refundRequestedAt: 'asc' })
    .limit(slot<number>('limit')),
);

/**
 * {@link PaymentRepository} on MikroORM. Reads bypass the identity map and return plain payments;
 * status changes are single conditional UPDATEs, so the row lock decides between concurrent
 * settlements and the loser sees 0 rows changed.
 */
export class MikroOrmPaymentRepository implements PaymentRepository {
  readonly #em: EntityManager;
  constructor(em: EntityManager) {
    this.#em = em;
  }

  async findByOrderIds(orderIds: readonly string[]): Promise<Payment[]> {
    if (orderIds.length === 0) return [];
    return paymentsOfOrders.all(this.#em, { orderIds });
  }

  async findByOrderId(orderId: string): Promise<Payment | null> {
    const [payment] = await paymentsOfOrders.all(this.#em, { orderIds: [orderId] });
    return payment ?? null;
  }

  async insertPending(payment: Payment & { readonly status: 'PENDING' }): Promise<boolean> {
    // ON CONFLICT DO NOTHING rather than catching the unique violation, which would abort a surrounding transaction.
    const result = await this.#em
      .createQueryBuilder(PaymentRecord)
      .insert({ ...payment })
      .onConflict()
      .ignore()
      .execute('run');
    return result.affectedRows > 0;
  }

  async markSucceeded(id: string, chargeId: string, at: Date): Promise<Payment | undefined> {
    // RETURNING hands back the stored row: the charge flow answers with it without a second read (issue 6).
    const [row] = await this.#em
      .createQueryBuilder(PaymentRecord)
      .update({ status: 'SUCCEEDED', providerChargeId: chargeId, updatedAt: at })
      .where({ id, status: 'PENDING' })
      .returning('*' as never)
      .execute<Payment[]>('all');
    return row;
  }

  async markDeclined(id: string, code: string, message: string, at: Date): Promise<boolean> {
    const changed = await this.#em.nativeUpdate(
      PaymentRecord,
      { id, status: 'PENDING' },
      { status: 'DECLINED', declineCode: code, declineMessage: message, updatedAt: at },
    );
    return changed > 0;
  }

  async markVoided(id: string, at: Date): Promise<boolean> {
    const changed = await this.#em.nativeUpdate(PaymentRecord, { id, status: 'PENDING' }, { status: 'VOIDED', updatedAt: at });
    return changed > 0;
  }

  async markRefunded(id: string, refundId: string, at: Date, chargeId?: string): Promise<boolean> {
    const changed = await this.#em.nativeUpdate(
      PaymentRecord,
      chargeId === undefined ? { id, status: 'SUCCEEDED' } : { id, status: 'VOIDED' },
      {
        status: 'REFUNDED',
        providerRefundId: refundId,
        updatedAt: at,
        refundedAt: at,
        ...(chargeId === undefined ? {} : { providerChargeId: chargeId }),
      },
    );
    return changed > 0;
  }

  async recordAttempt(id: string, at: Date): Promise<void> {
    // Counted in the database, so concurrent attempts (a retry racing the reconciler) both count.
    const attemptCount = raw(`${sqlNames(this.#em, PaymentRecord).column('attemptCount')} + 1`);
    await this.#em.nativeUpdate(PaymentRecord, { id }, { attemptCount, lastAttemptAt: at, updatedAt: at } as never);
  }

  async recordAttemptError(id: string, message: string): Promise<void> {
    await this.#em.nativeUpdate(PaymentRecord, { id }, { lastError: message.slice(0, 1_000) });
  }

  async requestRefund(id: string, at: Date): Promise<void> {
    await this.#em.nativeUpdate(PaymentRecord, { id, refundRequestedAt: null }, { refundRequestedAt: at });
  }

  findStalePending(before: Date, limit: number): Promise<Payment[]> {
    return stalePending.all(this.#em, { before, limit });
  }

  findUnfinishedRefunds(before: Date, limit: number): Promise<Payment[]> {
    return unfinishedRefunds.all(this.#em, { before, limit });
  }
}

/** {@link ProviderEventLog} on the `payment_provider_events` table. */
export class MikroOrmProviderEventLog implements ProviderEventLog {
  readonly #em: EntityManager;
  constructor(em: EntityManager) {
    this.#em = em;
  }

  async remember(eventId: string, type: string, orderId: string | null, at: Date): Promise<boolean> {
    const result = await this.#em
      .createQueryBuilder(ProviderEventRecord)
      .insert({ eventId, type, orderId, receivedAt: at })
      .onConflict()
      .ignore()
      .execute('run');
    return result.affectedRows > 0;
  }
}

/** {@link PaymentsUnitOfWork} as a MikroORM transaction on a fork of the given EntityManager. */
export class MikroOrmPaymentsUnitOfWork implements PaymentsUnitOfWork {
  readonly #em: EntityManager;
  constructor(em: EntityManager) {
    this.#em = em;
  }

  transaction<T>(work: (tx: { payments: PaymentRepository; events: ProviderEventLog }) => Promise<T>): Promise<T> {
    return this.#em.transactional((txEm) => work({ payments: new MikroOrmPaymentRepository(txEm), events: new MikroOrmProviderEventLog(txEm) }));
  }
}

/**
 * The statements of {@link MikroOrmPaymentStatements}, built once per ORM from the entity metadata
 * (building a QueryBuilder statement costs ~100 µs of CPU, measured: two per placeOrder). The
 * answer's updates are MikroORM's QueryBuilder, conditional on PENDING like the repository's
 * `mark…` updates; the pending insert is hand-written (ADR 0011): `insert … select … where exists`
 * on the embedding statement's CTE, which the QueryBuilder's insert cannot express.
 */
const compiledStatements = perOrm((em) => {
  const { table, columns } = sqlNames(em, PaymentRecord);
  const pending = columns('id', 'orderId', 'idempotencyKey', 'amountMinor', 'currency', 'status', 'createdAt', 'updatedAt', 'attemptCount', 'lastAttemptAt');
  return {
    insertPending: (onlyIf: string) =>
      `insert into ${table} (${pending}) select ?, ?, ?, ?, ?, 'PENDING', ?, ?, 1, ? where exists (select 1 from ${em.getPlatform().quoteIdentifier(onlyIf)})`,
    succeeded: compileSelect(em, PaymentRecord, (qb) =>
      qb.update({ status: 'SUCCEEDED', providerChargeId: slot('chargeId'), updatedAt: slot('at') }).where({ orderId: slot('orderId'), status: 'PENDING' }).returning(['id']) as never,
    ),
    declined: compileSelect(em, PaymentRecord, (qb) =>
      qb
        .update({ status: 'DECLINED', declineCode: slot('code'), declineMessage: slot('message'), updatedAt: slot('at') })
        .where({ orderId: slot('orderId'), status: 'PENDING' })
        .returning(['id']) as never,
    ),
  };
});

/** {@link PaymentStatements} on the `payments` table. */
export class MikroOrmPaymentStatements implements PaymentStatements {
  readonly #em: EntityManager;
  constructor(em: EntityManager) {
    this.#em = em;
  }

  insertPending(input: { readonly orderId: string; readonly amountMinor: number; readonly currency: string }, at: Date, onlyIf: string): SqlFragment {
    const { id, orderId, idempotencyKey, amountMinor, currency } = newPendingPayment(input, at);
    return { sql: compiledStatements(this.#em).insertPending(onlyIf), params: [id, orderId, idempotencyKey, amountMinor, currency, at, at, at] };
  }

  recordAnswer(orderId: string, answer: ChargeOutcome, at: Date): SqlFragment {
    const statements = compiledStatements(this.#em);
    return answer.outcome === 'SUCCEEDED'
      ? fragmentOf(statements.succeeded, { orderId, chargeId: answer.chargeId, at })
      : fragmentOf(statements.declined, { orderId, code: answer.code, message: answer.message, at });
  }
}
