import type { EntityManager, InferEntity } from '@mikro-orm/postgresql';
import type { Payment } from '../domain/payment.ts';
import type { PaymentRepository } from '../application/ports.ts';
import { PaymentRecord } from './payment.entity.ts';

type Row = InferEntity<typeof PaymentRecord>;

// The ORM hydrates NULL as undefined (forceUndefined), the domain says null.
const toPayment = (row: Row): Payment => ({
  id: row.id,
  orderId: row.orderId,
  idempotencyKey: row.idempotencyKey,
  amountMinor: row.amountMinor,
  currency: row.currency,
  status: row.status,
  providerChargeId: row.providerChargeId ?? null,
  providerRefundId: row.providerRefundId ?? null,
  declineCode: row.declineCode ?? null,
  declineMessage: row.declineMessage ?? null,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  refundedAt: row.refundedAt ?? null,
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
    const rows = await this.#em.find(PaymentRecord, { orderId: { $in: [...orderIds] } }, { disableIdentityMap: true });
    return rows.map(toPayment);
  }

  async findByOrderId(orderId: string): Promise<Payment | null> {
    const row = await this.#em.findOne(PaymentRecord, { orderId }, { disableIdentityMap: true });
    return row ? toPayment(row) : null;
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

  async markSucceeded(id: string, chargeId: string, at: Date): Promise<boolean> {
    const changed = await this.#em.nativeUpdate(
      PaymentRecord,
      { id, status: 'PENDING' },
      { status: 'SUCCEEDED', providerChargeId: chargeId, updatedAt: at },
    );
    return changed > 0;
  }

  async markDeclined(id: string, code: string, message: string, at: Date): Promise<boolean> {
    const changed = await this.#em.nativeUpdate(
      PaymentRecord,
      { id, status: 'PENDING' },
      { status: 'DECLINED', declineCode: code, declineMessage: message, updatedAt: at },
    );
    return changed > 0;
  }

  async markRefunded(id: string, refundId: string, at: Date): Promise<boolean> {
    const changed = await this.#em.nativeUpdate(
      PaymentRecord,
      { id, status: 'SUCCEEDED' },
      { status: 'REFUNDED', providerRefundId: refundId, updatedAt: at, refundedAt: at },
    );
    return changed > 0;
  }
}
