import type { EntityManager, InferEntity } from '@mikro-orm/postgresql';
import type { Payment } from '../domain/payment.ts';
import type { PaymentRepository, PaymentsUnitOfWork, ProviderEventLog } from '../application/ports.ts';
import { PaymentRecord, ProviderEventRecord } from './payment.entity.ts';

type Row = InferEntity<typeof PaymentRecord>;
/**
 * A row as MikroORM's QueryBuilder returns it with `execute('all')`: keys mapped to property names,
 * but no entity hydration, so the `bigint` column stays the driver's string (ADR 0008: hydration
 * cost about 1 ms per 50-row page here, the loader of `Order.payment`).
 */
type PlainRow = Omit<Row, 'amountMinor'> & { readonly amountMinor: number | string };

// The ORM hydrates NULL as undefined (forceUndefined) and plain rows carry null: the domain says null.
const toPayment = (row: PlainRow): Payment => ({
  id: row.id,
  orderId: row.orderId,
  idempotencyKey: row.idempotencyKey,
  amountMinor: Number(row.amountMinor),
  currency: row.currency,
  status: row.status,
  providerChargeId: row.providerChargeId ?? null,
  providerRefundId: row.providerRefundId ?? null,
  declineCode: row.declineCode ?? null,
  declineMessage: row.declineMessage ?? null,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  refundedAt: row.refundedAt ?? null,
  attemptCount: row.attemptCount,
  lastAttemptAt: row.lastAttemptAt ?? null,
  lastError: row.lastError ?? null,
  refundRequestedAt: row.refundRequestedAt ?? null,
});

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
    const rows = await this.#plain().where({ orderId: { $in: [...orderIds] } }).execute<PlainRow[]>('all');
    return rows.map(toPayment);
  }

  async findByOrderId(orderId: string): Promise<Payment | null> {
    const [row] = await this.#plain().where({ orderId }).execute<PlainRow[]>('all');
    return row ? toPayment(row) : null;
  }

  /** Plain-object reads: the QueryBuilder maps columns to properties without hydrating entities. */
  #plain() {
    return this.#em.createQueryBuilder(PaymentRecord).select('*');
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
    const rows = await this.#em.getConnection().execute<Record<string, unknown>[]>(
      `update payments set status = 'SUCCEEDED', provider_charge_id = ?, updated_at = ? where id = ? and status = 'PENDING' returning *`,
      [chargeId, at, id],
      'all',
      this.#em.getTransactionContext(),
    );
    const row = rows[0];
    return row ? toPayment(this.#em.map(PaymentRecord, row) as Row) : undefined;
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
    await this.#em.getConnection().execute(
      'update payments set attempt_count = attempt_count + 1, last_attempt_at = ?, updated_at = ? where id = ?',
      [at, at, id],
      'run',
      this.#em.getTransactionContext(),
    );
  }

  async recordAttemptError(id: string, message: string): Promise<void> {
    await this.#em.nativeUpdate(PaymentRecord, { id }, { lastError: message.slice(0, 1_000) });
  }

  async requestRefund(id: string, at: Date): Promise<void> {
    await this.#em.nativeUpdate(PaymentRecord, { id, refundRequestedAt: null }, { refundRequestedAt: at });
  }

  async findStalePending(before: Date, limit: number): Promise<Payment[]> {
    const rows = await this.#em.find(
      PaymentRecord,
      { status: 'PENDING', updatedAt: { $lt: before } },
      { orderBy: { createdAt: 'asc' }, limit, disableIdentityMap: true },
    );
    return rows.map(toPayment);
  }

  async findUnfinishedRefunds(before: Date, limit: number): Promise<Payment[]> {
    const rows = await this.#em.find(
      PaymentRecord,
      { status: { $in: ['SUCCEEDED', 'VOIDED'] }, refundRequestedAt: { $ne: null, $lt: before } },
      { orderBy: { refundRequestedAt: 'asc' }, limit, disableIdentityMap: true },
    );
    return rows.map(toPayment);
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
