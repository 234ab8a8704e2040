import { AppError, type ValidationError } from '../../src/platform/errors.ts';
import type { OpContext, Role } from '../../src/platform/op-context.ts';
import { invalidCursor, type Page, type PageWindow } from '../../src/platform/pagination.ts';
import { err, ok, type Result } from '../../src/platform/result.ts';
import type { Order, OrderLine, OrderStatusChange } from '../../src/modules/orders/domain/order.ts';
import type { OrderStatus } from '../../src/modules/orders/domain/status-machine.ts';
import type { OrdersDeps } from '../../src/modules/orders/application/deps.ts';
import { encodeCursor, isAfter } from '../../src/modules/orders/domain/order-log-cursor.ts';
import { noCrashPoints } from '../../src/platform/crash-points.ts';
import type {
  ChargeAnswer,
  CustomerDirectory,
  LoggedChange,
  LogPosition,
  OrderEvents,
  OrderLog,
  OrderLogDoorbell,
  OrderLogFilter,
  OrderFilter,
  OrderOrder,
  OrderPayments,
  OrderReader,
  OrdersTransaction,
  OrdersUnitOfWork,
  PaymentAnswerRecorded,
  PaymentState,
  PaymentDecline,
  PricingProduct,
  ProductCatalog,
  ProductStock,
  StoredAnswer,
} from '../../src/modules/orders/application/ports.ts';
import type { IdempotencyClaim } from '../../src/platform/idempotency.ts';
import type { Product } from '../../src/modules/catalog/public.ts';
import type { ProviderEvent } from '../../src/modules/payments/public.ts';

/** The instant every fake clock returns. */
export const FIXED_NOW = new Date('2026-11-21T12:00:00.000Z');

/** A clock that always answers {@link FIXED_NOW} (a fresh Date each call, so nobody can mutate it). */
export const fixedClock = (at: Date = FIXED_NOW): (() => Date) => () => new Date(at.getTime());

// ---------------------------------------------------------------------------------------------
// Operation contexts
// ---------------------------------------------------------------------------------------------

/** A signed-in customer (role CUSTOMER unless told otherwise). */
export function customerOp(customerId: string, options: { role?: Role; signal?: AbortSignal } = {}): OpContext {
  return {
    signal: options.signal ?? new AbortController().signal,
    viewer: { kind: 'customer', customerId, role: options.role ?? 'CUSTOMER' },
    requestId: `req-${customerId}`,
  };
}

/** A signed-in customer account with the ADMIN role. */
export function adminOp(adminId = 'admin-1', signal?: AbortSignal): OpContext {
  return customerOp(adminId, { role: 'ADMIN', ...(signal ? { signal } : {}) });
}

/** Nobody signed in. */
export function anonymousOp(signal: AbortSignal = new AbortController().signal): OpContext {
  return { signal, viewer: { kind: 'anonymous' }, requestId: 'req-anonymous' };
}

// ---------------------------------------------------------------------------------------------
// Orders store: OrderReader + OrdersUnitOfWork + OrderLog
// ---------------------------------------------------------------------------------------------

interface StoreState {
  readonly orders: Map<string, Order>;
  readonly lines: Map<string, OrderLine[]>;
  readonly history: Map<string, OrderStatusChange[]>;
  readonly stock: Map<string, number>;
  /** A transaction's writes to the order log (its outbox rows); empty in the committed state, whose log is kept apart. */
  readonly outbox: OrderStatusChange[];
  /** Idempotency keys (ADR 0013) by JSON [identity, key]; no window here: tests use fresh keys. */
  readonly keys: Map<string, StoredAnswer>;
}

const keyId = (claim: Pick<IdempotencyClaim, 'identity' | 'key'>) => JSON.stringify([claim.identity, claim.key]);

function cloneState(state: StoreState): StoreState {
  return {
    orders: new Map(state.orders),
    lines: new Map([...state.lines].map(([id, lines]) => [id, [...lines]])),
    history: new Map([...state.history].map(([id, changes]) => [id, [...changes]])),
    stock: new Map(state.stock),
    outbox: [...state.outbox],
    keys: new Map(state.keys),
  };
}

/** The writes of one in-memory transaction, applied to a private copy of the store. */
class InMemoryOrdersTransaction implements OrdersTransaction {
  readonly #draft: StoreState;
  readonly #nextNumber: () => number;
  readonly #isActive: (productId: string) => boolean;
  #open = true;

  constructor(draft: StoreState, nextNumber: () => number, isActive: (productId: string) => boolean) {
    this.#draft = draft;
    this.#nextNumber = nextNumber;
    this.#isActive = isActive;
  }

  close(): void {
    this.#open = false;
  }

  #checkOpen(): void {
    if (!this.#open) throw new Error('transaction used after it ended');
  }

  /**
   * Like the SQL one: product-id order, one conditional decrement per line, and only of an active
   * product (an inactive one lacks stock, whatever it holds); the caller rolls back on a miss.
   */
  async reserveStock(lines: readonly { productId: string; quantity: number }[]): Promise<string | undefined> {
    this.#checkOpen();
    for (const line of [...lines].sort((a, b) => a.productId.localeCompare(b.productId))) {
      const available = this.#draft.stock.get(line.productId);
      if (available === undefined || available < line.quantity || !this.#isActive(line.productId)) return line.productId;
      this.#draft.stock.set(line.productId, available - line.quantity);
    }
    return undefined;
  }

  /** {@link reserveStock}, then the stock it left (the fake's clock for `updatedAt`: {@link FIXED_NOW}). */
  async reserveStockWithLevels(lines: readonly { productId: string; quantity: number }[]): Promise<{ short: string } | { levels: ProductStock[] }> {
    const short = await this.reserveStock(lines);
    if (short) return { short };
    const ids = [...new Set(lines.map((line) => line.productId))].sort();
    return { levels: ids.map((productId) => ({ productId, stock: this.#draft.stock.get(productId) ?? 0, updatedAt: FIXED_NOW })) };
  }

  async releaseStock(lines: readonly { productId: string; quantity: number }[]): Promise<void> {
    this.#checkOpen();
    for (const line of lines) {
      this.#draft.stock.set(line.productId, (this.#draft.stock.get(line.productId) ?? 0) + line.quantity);
    }
  }

  async insertOrder(
    order: Omit<Order, 'number'>,
    lines: readonly Omit<OrderLine, 'orderId'>[],
    created: OrderStatusChange,
  ): Promise<Order | 'DUPLICATE_IDEMPOTENCY_KEY'> {
    this.#checkOpen();
    for (const existing of this.#draft.orders.values()) {
      if (existing.customerId === order.customerId && existing.idempotencyKey === order.idempotencyKey) return 'DUPLICATE_IDEMPOTENCY_KEY';
    }
    if (this.#draft.orders.has(order.id)) throw new Error(`duplicate order id ${order.id}`);
    const saved: Order = { ...order, number: this.#nextNumber() };
    this.#draft.orders.set(saved.id, saved);
    this.#draft.lines.set(saved.id, lines.map((line) => ({ ...line, orderId: saved.id })));
    this.#draft.history.set(saved.id, [created]);
    this.#draft.outbox.push(created);
    return saved;
  }

  async saveStatusChange(change: OrderStatusChange): Promise<Order | undefined> {
    this.#checkOpen();
    const current = this.#draft.orders.get(change.orderId);
    if (!current || current.version !== change.version - 1 || current.status !== change.from) return undefined;
    const updated: Order = { ...current, status: change.to, version: change.version, updatedAt: change.at };
    this.#draft.orders.set(updated.id, updated);
    this.#draft.history.set(updated.id, [...(this.#draft.history.get(updated.id) ?? []), change]);
    this.#draft.outbox.push(change);
    return updated;
  }

  /** Like the SQL one: false when the key is taken; the claim rolls back with the transaction. */
  async claimKey(claim: IdempotencyClaim, answer: Order): Promise<boolean> {
    this.#checkOpen();
    if (this.#draft.keys.has(keyId(claim))) return false;
    this.#draft.keys.set(keyId(claim), { fingerprint: claim.fingerprint, order: answer });
    return true;
  }
}

/** One recorded `findPage` call. */
export interface PageCall {
  readonly filter: OrderFilter;
  readonly order: OrderOrder;
  readonly window: PageWindow;
}

/** The plain change of a log entry (its position and cursor left out), to compare with history entries. */
export const changeOf = ({ position: _position, cursor: _cursor, ...change }: LoggedChange): OrderStatusChange => change;

/**
 * {@link OrderReader}, {@link OrdersUnitOfWork} and {@link OrderLog} over one in-memory database.
 * Transactions run one at a time (like competing rows locks / the unique index make them wait in
 * PostgreSQL), apply their writes to a copy and commit it only when `work` returns ok; an error
 * result or a throw discards it. Reads always see the last committed state. Order numbers come from
 * a sequence that, as in PostgreSQL, is not rolled back. A commit appends its changes to the log
 * with positions (transaction id = commit number, so log order is commit order here) and cursors
 * written at the change's `at`.
 */
export class InMemoryOrdersStore implements OrderReader, OrdersUnitOfWork, OrderLog {
  #state: StoreState = { orders: new Map(), lines: new Map(), history: new Map(), stock: new Map(), outbox: [], keys: new Map() };
  /** The order log: every committed change, in log order (pruned by {@link prune}). */
  #log: LoggedChange[] = [];
  #lastTxId = 700n;
  #lastLogId = 0;
  #lastNumber = 1000;
  /** Products the catalog has deactivated (see setStock). */
  readonly #inactive = new Set<string>();
  #queue: Promise<void> = Promise.resolve();
  commits = 0;
  rollbacks = 0;
  /** Every findPage call, to assert the filter a use case asked for. */
  readonly pageCalls: PageCall[] = [];
  /** Every findByIds call's ids. */
  readonly idLookups: string[][] = [];

  // --- test helpers ---------------------------------------------------------------------------

  /** Sets a product's committed stock; `active: false` makes it one the catalog no longer sells (reservations refuse it). */
  setStock(productId: string, quantity: number, options: { readonly active?: boolean } = {}): void {
    this.#state.stock.set(productId, quantity);
    if (options.active === false) this.#inactive.add(productId);
    else this.#inactive.delete(productId);
  }

  /** Committed stock of a product (undefined when never set). */
  stockOf(productId: string): number | undefined {
    return this.#state.stock.get(productId);
  }

  /** Every committed order, in insertion order. */
  allOrders(): Order[] {
    return [...this.#state.orders.values()];
  }

  orderById(orderId: string): Order | undefined {
    return this.#state.orders.get(orderId);
  }

  historyOf(orderId: string): OrderStatusChange[] {
    return [...(this.#state.history.get(orderId) ?? [])];
  }

  linesOf(orderId: string): OrderLine[] {
    return [...(this.#state.lines.get(orderId) ?? [])];
  }

  /** Every committed change in the order log (its outbox rows), in log order, as plain changes. */
  outboxEntries(): OrderStatusChange[] {
    return this.#log.map(changeOf);
  }

  /** The order log's entries as readers get them (with positions and cursors), in log order. */
  loggedChanges(): LoggedChange[] {
    return [...this.#log];
  }

  /** Drops the log entries written before `before` (the retention pruner). @returns how many. */
  prune(before: Date): number {
    const kept = this.#log.filter((change) => change.at.getTime() >= before.getTime());
    const pruned = this.#log.length - kept.length;
    this.#log = kept;
    return pruned;
  }

  /**
   * Stores an order with its lines and history as is (outside any transaction); with `logged`, its
   * history also goes to the order log, as one committed transaction.
   */
  seed(order: Order, lines: readonly OrderLine[], history: readonly OrderStatusChange[], options: { readonly logged?: boolean } = {}): void {
    this.#state.orders.set(order.id, order);
    this.#state.lines.set(order.id, [...lines]);
    this.#state.history.set(order.id, [...history]);
    if (options.logged) this.#appendToLog(history);
  }

  /** Appends one committed transaction's changes to the log. */
  #appendToLog(changes: readonly OrderStatusChange[]): void {
    if (changes.length === 0) return;
    this.#lastTxId += 1n;
    for (const change of changes) {
      const position: LogPosition = { txId: this.#lastTxId, id: (this.#lastLogId += 1) };
      this.#log.push({ ...change, position, cursor: encodeCursor(position, change.at) });
    }
  }

  // --- OrdersUnitOfWork -----------------------------------------------------------------------

  async transaction<T, E>(work: (tx: OrdersTransaction) => Promise<Result<T, E>>): Promise<Result<T, E>> {
    const previous = this.#queue;
    let release!: () => void;
    this.#queue = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    // The draft collects only this transaction's log entries, appended to the log on commit.
    const draft: StoreState = { ...cloneState(this.#state), outbox: [] };
    const tx = new InMemoryOrdersTransaction(draft, () => ++this.#lastNumber, (productId) => !this.#inactive.has(productId));
    try {
      const result = await work(tx);
      if (result.ok) {
        this.#state = { ...draft, outbox: [] };
        this.#appendToLog(draft.outbox);
        this.commits += 1;
      } else {
        this.rollbacks += 1;
      }
      return result;
    } catch (error) {
      this.rollbacks += 1;
      throw error;
    } finally {
      tx.close();
      release();
    }
  }

  /**
   * The status change (and the stock it puts back) in one transaction, like the SQL one. This
   * store keeps no payments (FakeOrderPayments stands for them), so every answer counts as
   * recorded; the order moves only from the version the change expects.
   */
  async recordPaymentAnswer(
    change: OrderStatusChange,
    _answer: ChargeAnswer,
    release: readonly { productId: string; quantity: number }[],
  ): Promise<PaymentAnswerRecorded> {
    const result = await this.transaction<Order | undefined, never>(async (tx) => {
      const order = await tx.saveStatusChange(change);
      if (order && release.length > 0) await tx.releaseStock(release);
      return ok(order);
    });
    return { recorded: true, order: result.ok ? result.value : undefined };
  }

  async storedAnswer(claim: Pick<IdempotencyClaim, 'identity' | 'key'>): Promise<StoredAnswer | undefined> {
    return this.#state.keys.get(keyId(claim));
  }

  // --- OrderReader ----------------------------------------------------------------------------

  /** Like `where id in (…)`: each match once, in table (insertion) order, not in the order asked. */
  async findByIds(ids: readonly string[]): Promise<Order[]> {
    this.idLookups.push([...ids]);
    const wanted = new Set(ids);
    return this.allOrders().filter((order) => wanted.has(order.id));
  }

  async findStalePending(before: Date, limit: number): Promise<Order[]> {
    return this.allOrders()
      .filter((order) => order.status === 'PENDING' && order.updatedAt < before)
      .sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime())
      .slice(0, limit);
  }

  async findByIdempotencyKey(customerId: string, idempotencyKey: string): Promise<Order | undefined> {
    return this.allOrders().find((order) => order.customerId === customerId && order.idempotencyKey === idempotencyKey);
  }

  /** Keyset paging over the filtered, sorted orders; cursors are order ids. */
  async findPage(filter: OrderFilter, order: OrderOrder, window: PageWindow): Promise<Result<Page<Order>, ValidationError>> {
    this.pageCalls.push({ filter, order, window });
    const key = (o: Order): number => (order.field === 'CREATED_AT' ? o.createdAt.getTime() : order.field === 'NUMBER' ? o.number : o.totalMinor);
    const sign = order.direction === 'ASC' ? 1 : -1;
    const matching = this.allOrders()
      .filter((o) => filter.customerId === undefined || o.customerId === filter.customerId)
      .filter((o) => filter.statuses === undefined || filter.statuses.length === 0 || filter.statuses.includes(o.status))
      .filter((o) => filter.createdAfter === undefined || o.createdAt.getTime() >= filter.createdAfter.getTime())
      .filter((o) => filter.createdBefore === undefined || o.createdAt.getTime() < filter.createdBefore.getTime())
      .sort((a, b) => sign * (key(a) - key(b) || a.id.localeCompare(b.id)));
    const indexOf = (cursor: string): number => matching.findIndex((o) => o.id === cursor);
    let items: Order[];
    let hasNextPage: boolean;
    let hasPreviousPage: boolean;
    if (window.first !== undefined) {
      let start = 0;
      if (window.after !== undefined) {
        const index = indexOf(window.after);
        if (index < 0) return err(invalidCursor('after'));
        start = index + 1;
      }
      items = matching.slice(start, start + window.first);
      hasNextPage = start + window.first < matching.length;
      hasPreviousPage = start > 0;
    } else {
      let end = matching.length;
      if (window.before !== undefined) {
        end = indexOf(window.before);
        if (end < 0) return err(invalidCursor('before'));
      }
      const start = Math.max(0, end - window.last);
      items = matching.slice(start, end);
      hasNextPage = end < matching.length;
      hasPreviousPage = start > 0;
    }
    return ok({
      edges: items.map((node) => ({ node, cursor: node.id })),
      pageInfo: { hasNextPage, hasPreviousPage, startCursor: items[0]?.id ?? null, endCursor: items.at(-1)?.id ?? null },
      totalCount: async () => matching.length,
    });
  }

  async findLines(orderIds: readonly string[]): Promise<OrderLine[]> {
    return [...new Set(orderIds)]
      .sort()
      .flatMap((id) => this.linesOf(id))
      .sort((a, b) => a.orderId.localeCompare(b.orderId) || a.position - b.position);
  }

  async findHistory(orderIds: readonly string[]): Promise<OrderStatusChange[]> {
    return [...new Set(orderIds)]
      .sort()
      .flatMap((id) => this.historyOf(id))
      .sort((a, b) => a.orderId.localeCompare(b.orderId) || a.version - b.version);
  }

  /** Like the SQL one: each entry with the cursor of its log entry, null once that was pruned (or never logged: seeded). */
  async findHistorySince(orderId: string, afterVersion: number): Promise<(OrderStatusChange & { cursor: string | null })[]> {
    return this.historyOf(orderId)
      .filter((change) => change.version > afterVersion)
      .sort((a, b) => a.version - b.version)
      .map((change) => ({ ...change, cursor: this.#log.find((e) => e.orderId === orderId && e.version === change.version)?.cursor ?? null }));
  }

  // --- OrderLog -------------------------------------------------------------------------------

  /** Every readAfter call, to assert what a use case asked the log for. */
  readonly logReads: { readonly after: LogPosition | null; readonly filter: OrderLogFilter; readonly limit: number }[] = [];

  async readAfter(after: LogPosition | null, filter: OrderLogFilter, limit: number): Promise<LoggedChange[]> {
    this.logReads.push({ after, filter, limit });
    return this.#log
      .filter((e) => isAfter(e.position, after ?? undefined))
      .filter((e) => (filter.orderId === undefined || e.orderId === filter.orderId) && (filter.customerId === undefined || e.customerId === filter.customerId))
      .slice(0, limit);
  }
}

/** Options for {@link seedOrder}. */
export interface SeedOrderOptions {
  readonly customerId: string;
  readonly id?: string;
  /** Statuses after creation, e.g. ['PAID', 'SHIPPED']; [] leaves the order PENDING at version 1. */
  readonly path?: readonly OrderStatus[];
  readonly lines?: readonly { productId: string; quantity: number; unitPriceMinor: number; productName?: string }[];
  readonly idempotencyKey?: string;
  readonly createdAt?: Date;
  readonly number?: number;
  readonly currency?: string;
  /** Also write the history to the order log (one committed transaction), as placing and moving it would have. */
  readonly logged?: boolean;
}

let seededNumber = 1;

/**
 * Writes a consistent order straight into the store: lines, an audit trail following `path`
 * (creation by the customer, PAID/PAYMENT_FAILED by `system:payments`, the rest by `admin:admin-1`),
 * and version = 1 + path length. @returns the stored order.
 */
export function seedOrder(store: InMemoryOrdersStore, options: SeedOrderOptions): Order {
  const id = options.id ?? crypto.randomUUID();
  const createdAt = options.createdAt ?? FIXED_NOW;
  const requested = options.lines ?? [{ productId: 'p-apple', quantity: 1, unitPriceMinor: 1_999 }];
  const lines: OrderLine[] = requested.map((line, index) => ({
    orderId: id,
    position: index + 1,
    productId: line.productId,
    productName: line.productName ?? line.productId,
    quantity: line.quantity,
    unitPriceMinor: line.unitPriceMinor,
    lineTotalMinor: line.unitPriceMinor * line.quantity,
  }));
  const subtotalMinor = lines.reduce((sum, line) => sum + line.lineTotalMinor, 0);
  const history: OrderStatusChange[] = [
    { orderId: id, customerId: options.customerId, version: 1, from: null, to: 'PENDING', at: createdAt, actor: `customer:${options.customerId}`, reason: null },
  ];
  let status: OrderStatus = 'PENDING';
  for (const to of options.path ?? []) {
    const actor = to === 'PAID' || to === 'PAYMENT_FAILED' ? 'system:payments' : 'admin:admin-1';
    history.push({ orderId: id, customerId: options.customerId, version: history.length + 1, from: status, to, at: createdAt, actor, reason: null });
    status = to;
  }
  const order: Order = {
    id,
    number: options.number ?? seededNumber++,
    customerId: options.customerId,
    idempotencyKey: options.idempotencyKey ?? `seed-${id}`,
    requestHash: `seed-hash-${id}`,
    status,
    currency: options.currency ?? 'USD',
    subtotalMinor,
    discountPercent: 0,
    discountMinor: 0,
    totalMinor: subtotalMinor,
    version: history.length,
    createdAt,
    updatedAt: createdAt,
  };
  store.seed(order, lines, history, { logged: options.logged ?? false });
  return order;
}

/**
 * Appends status changes to an order in one committed transaction (and so to the order log),
 * without ringing any doorbell (as if the ring were lost or the readers had not read yet).
 * @returns the changes written.
 */
export async function writeChangesSilently(
  store: InMemoryOrdersStore,
  orderId: string,
  statuses: readonly OrderStatus[],
  actor = 'admin:admin-1',
): Promise<OrderStatusChange[]> {
  const written: OrderStatusChange[] = [];
  const result = await store.transaction<OrderStatusChange[], string>(async (tx) => {
    let current = store.orderById(orderId);
    if (!current) return err('missing');
    for (const to of statuses) {
      const change: OrderStatusChange = {
        orderId,
        customerId: current.customerId,
        version: current.version + 1,
        from: current.status,
        to,
        at: FIXED_NOW,
        actor,
        reason: null,
      };
      const updated = await tx.saveStatusChange(change);
      if (!updated) return err('conflict');
      written.push(change);
      current = updated;
    }
    return ok(written);
  });
  if (!result.ok) throw new Error(`writeChangesSilently: ${result.error}`);
  return result.value;
}

// ---------------------------------------------------------------------------------------------
// Catalog and customers
// ---------------------------------------------------------------------------------------------

/** {@link ProductCatalog} over a map; records every lookup. */
export class FakeProductCatalog implements ProductCatalog {
  readonly #products = new Map<string, Product>();
  readonly lookups: string[][] = [];

  /** Adds products; what pricing does not need gets a plain default (sku = id, no stock). */
  add(...products: (PricingProduct & Partial<Product>)[]): this {
    for (const product of products) {
      this.#products.set(product.id, { sku: product.id, description: '', stock: 0, createdAt: FIXED_NOW, updatedAt: FIXED_NOW, ...product });
    }
    return this;
  }

  async getForPricing(_op: OpContext, ids: readonly string[]): Promise<(Product | null)[]> {
    this.lookups.push([...ids]);
    return ids.map((id) => this.#products.get(id) ?? null);
  }
}

/** {@link CustomerDirectory} over a map of discount percentages; unknown ids answer undefined. */
export class FakeCustomerDirectory implements CustomerDirectory {
  readonly #discounts = new Map<string, number>();

  set(customerId: string, discountPercent: number): this {
    this.#discounts.set(customerId, discountPercent);
    return this;
  }

  async discountPercentFor(_op: OpContext, customerId: string): Promise<number | undefined> {
    return this.#discounts.get(customerId);
  }
}

// ---------------------------------------------------------------------------------------------
// Payments
// ---------------------------------------------------------------------------------------------

/** The decline the fake payments port returns (shaped like the payments module's PAYMENT_DECLINED). */
export class FakePaymentDeclinedError extends AppError implements PaymentDecline {
  readonly code = 'PAYMENT_DECLINED';
  readonly orderId: string;
  readonly declineCode: string;
  constructor(orderId: string, declineCode: string, message: string) {
    super(message);
    this.orderId = orderId;
    this.declineCode = declineCode;
  }
}

/** How one charge call ends. */
export type ChargeOutcome =
  | { readonly kind: 'succeed' }
  | { readonly kind: 'decline'; readonly declineCode?: string; readonly message?: string }
  | { readonly kind: 'throw'; readonly error?: Error };

export interface ChargeRequest {
  readonly orderId: string;
  readonly amountMinor: number;
  readonly currency: string;
}

/** An outcome, or a function deciding it (may wait, e.g. on a {@link deferred}). */
export type ChargeScript = ChargeOutcome | ((request: ChargeRequest) => Promise<ChargeOutcome>);

/**
 * {@link OrderPayments} with scriptable outcomes per order id (else `defaultOutcome`). Deliberately
 * not idempotent: every charge call is recorded, so tests see double charges.
 */
export class FakeOrderPayments implements OrderPayments {
  readonly chargeCalls: ChargeRequest[] = [];
  /** Order ids of every refund call, in call order. */
  readonly refunds: string[] = [];
  defaultOutcome: ChargeScript = { kind: 'succeed' };
  /** When set, refund calls are recorded and then throw it. */
  refundError: Error | undefined;
  readonly #scripts = new Map<string, ChargeScript>();
  readonly #declines = new Map<string, FakePaymentDeclinedError>();

  script(orderId: string, outcome: ChargeScript): this {
    this.#scripts.set(orderId, outcome);
    return this;
  }

  chargesFor(orderId: string): number {
    return this.chargeCalls.filter((call) => call.orderId === orderId).length;
  }

  /** Sends a charge: recorded in `chargeCalls`, answered by the order's script (else `defaultOutcome`). */
  async sendCharge(_op: OpContext, request: ChargeRequest): Promise<ChargeAnswer> {
    this.chargeCalls.push({ ...request });
    const script = this.#scripts.get(request.orderId) ?? this.defaultOutcome;
    const outcome = typeof script === 'function' ? await script(request) : script;
    switch (outcome.kind) {
      case 'succeed':
        return { outcome: 'SUCCEEDED', chargeId: `ch_fake_${this.chargeCalls.length}` };
      case 'decline': {
        const decline = new FakePaymentDeclinedError(request.orderId, outcome.declineCode ?? 'card_declined', outcome.message ?? 'The card was declined');
        // What declineOf answers from now on, as the payments module would from its DECLINED row.
        this.#declines.set(request.orderId, decline);
        return { outcome: 'DECLINED', code: decline.declineCode, message: decline.message, decline };
      }
      case 'throw':
        throw outcome.error ?? new Error('payment provider unavailable');
    }
  }

  /** Settles an answer as it was given (this fake keeps no payment that could have moved on). */
  async settleCharge(_op: OpContext, request: { orderId: string; answer: ChargeAnswer }): Promise<Result<unknown, PaymentDecline>> {
    return request.answer.outcome === 'SUCCEEDED' ? ok({ orderId: request.orderId, status: 'SUCCEEDED' }) : err(request.answer.decline);
  }

  async refund(_op: OpContext, request: { orderId: string }): Promise<void> {
    this.refunds.push(request.orderId);
    if (this.refundError) throw this.refundError;
  }

  async declineOf(_op: OpContext, orderId: string): Promise<PaymentDecline | undefined> {
    return this.#declines.get(orderId);
  }

  /** What the provider would say for each order on reconciliation (default: PENDING, i.e. unknown). */
  readonly reconcileAnswers = new Map<string, PaymentState>();
  readonly reconcileCalls: { orderId: string; payable: boolean }[] = [];
  /** Order ids the payments module would report as needing reconciliation. */
  toReconcile: string[] = [];

  async reconcile(_op: OpContext, request: { orderId: string; amountMinor: number; currency: string; payable: boolean }): Promise<PaymentState> {
    this.reconcileCalls.push({ orderId: request.orderId, payable: request.payable });
    const answer = this.reconcileAnswers.get(request.orderId) ?? 'PENDING';
    if (answer === 'SUCCEEDED' && !request.payable) {
      this.refunds.push(request.orderId);
      return 'REFUNDED';
    }
    return answer;
  }

  /** Every listToReconcile query, in call order. */
  readonly listQueries: { olderThan: Date; limit: number }[] = [];

  async listToReconcile(_op: OpContext, query: { olderThan: Date; limit: number }): Promise<string[]> {
    this.listQueries.push({ ...query });
    return [...this.toReconcile];
  }

  /** Every provider event recorded, in call order. */
  readonly providerEvents: ProviderEvent[] = [];
  /** What recording a provider event answers (by event id); unknown ids answer "not our charge". */
  readonly eventOutcomes = new Map<string, { applied: boolean; orderId: string | null; payment: PaymentState | null }>();

  async recordProviderEvent(_op: OpContext, event: ProviderEvent): Promise<{ applied: boolean; orderId: string | null; payment: PaymentState | null }> {
    this.providerEvents.push(event);
    return this.eventOutcomes.get(event.id) ?? { applied: false, orderId: null, payment: null };
  }
}

// ---------------------------------------------------------------------------------------------
// Order log reader (the doorbell)
// ---------------------------------------------------------------------------------------------

/**
 * This instance's order-log reader in memory, rung as the doorbell: each ring reads the log after
 * the reader's position and delivers what it read to the events, in log order (as the real reader
 * does on a ring or its timer). A failing read (`readError`) delivers nothing and keeps the
 * position, so the next ring delivers it. Reads run one after the other.
 */
export class InMemoryLogReader implements OrderLogDoorbell {
  readonly #log: OrderLog;
  readonly #events: InMemoryOrderEvents;
  #position: LogPosition | null;
  #reading: Promise<void> = Promise.resolve();
  rings = 0;
  /** Reads that failed (nothing delivered). */
  failures = 0;
  /** When set, reads throw it. */
  readError: Error | undefined;
  /** @param from the position to read after (default: the start of the log). */
  constructor(log: OrderLog, events: InMemoryOrderEvents, from: LogPosition | null = null) {
    this.#log = log;
    this.#events = events;
    this.#position = from;
  }

  ring(): void {
    this.rings += 1;
    this.#reading = this.#reading.then(() => this.#read());
  }

  async #read(): Promise<void> {
    try {
      if (this.readError) throw this.readError;
      for (;;) {
        const batch = await this.#log.readAfter(this.#position, {}, 100);
        for (const change of batch) {
          this.#events.deliver(change);
          this.#position = change.position;
        }
        if (batch.length < 100) return;
      }
    } catch {
      this.failures += 1;
    }
  }

  /** Resolves once every read started so far has finished. */
  idle(): Promise<void> {
    return this.#reading;
  }
}

/** An {@link OrderLogDoorbell} that only counts rings (nothing is delivered). */
export class CountingDoorbell implements OrderLogDoorbell {
  rings = 0;
  /** Runs at each ring (to look at the store at that moment). */
  onRing: (() => void) | undefined;
  ring(): void {
    this.rings += 1;
    this.onRing?.();
  }
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/**
 * {@link OrderEvents} in memory, fed by {@link deliver} (the log reader's role). `subscribe`
 * registers its listener at once (changes delivered before the first `next()` are buffered) and
 * stops when the signal aborts or the consumer stops. Every delivery is also recorded in
 * `delivered`, after the optional `onDeliver` hook ran.
 */
export class InMemoryOrderEvents implements OrderEvents {
  readonly delivered: LoggedChange[] = [];
  /** Runs at the start of each delivery (to look at the store at that moment). */
  onDeliver: ((change: LoggedChange) => void) | undefined;
  readonly #listeners = new Set<(change: LoggedChange) => void>();

  /** Listeners currently attached. */
  get subscriberCount(): number {
    return this.#listeners.size;
  }

  /** The plain changes delivered so far (positions and cursors left out), in delivery order. */
  get deliveredChanges(): OrderStatusChange[] {
    return this.delivered.map(changeOf);
  }

  /** Hands a change to every current subscriber (the same object to each, as the real one does). */
  deliver(change: LoggedChange): void {
    this.onDeliver?.(change);
    this.delivered.push(change);
    for (const listener of [...this.#listeners]) listener(change);
  }

  subscribe(signal: AbortSignal): AsyncIterable<LoggedChange> {
    const listeners = this.#listeners;
    const buffer: LoggedChange[] = [];
    let wake: (() => void) | undefined;
    const listener = (change: LoggedChange) => {
      buffer.push(change);
      wake?.();
    };
    const stop = () => {
      listeners.delete(listener);
      signal.removeEventListener('abort', stop);
      wake?.();
    };
    if (!signal.aborted) {
      listeners.add(listener);
      signal.addEventListener('abort', stop, { once: true });
    }
    return {
      async *[Symbol.asyncIterator]() {
        try {
          while (!signal.aborted) {
            const next = buffer.shift();
            if (next) {
              yield next;
              continue;
            }
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
          }
        } finally {
          stop();
        }
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Logger, deps, helpers
// ---------------------------------------------------------------------------------------------

/** A silent logger that keeps what it was told. */
export class RecordingLogger {
  readonly warns: unknown[][] = [];
  readonly errors: unknown[][] = [];
  readonly warn = (...args: unknown[]): void => {
    this.warns.push(args);
  };
  readonly error = (...args: unknown[]): void => {
    this.errors.push(args);
  };
}

/** Every fake behind an {@link OrdersDeps}. */
export interface OrdersFakes {
  readonly store: InMemoryOrdersStore;
  readonly catalog: FakeProductCatalog;
  readonly customers: FakeCustomerDirectory;
  readonly payments: FakeOrderPayments;
  readonly events: InMemoryOrderEvents;
  readonly logger: RecordingLogger;
}

export function createFakes(): OrdersFakes {
  return {
    store: new InMemoryOrdersStore(),
    catalog: new FakeProductCatalog(),
    customers: new FakeCustomerDirectory(),
    payments: new FakeOrderPayments(),
    events: new InMemoryOrderEvents(),
    logger: new RecordingLogger(),
  };
}

/** The log retention of deps made by {@link makeDeps}: 7 days, in ms (the configured default). */
export const LOG_RETENTION_MS = 7 * 24 * 3_600_000;

/**
 * {@link OrdersDeps} over fresh fakes (one store as reader, unit of work and order log; an
 * {@link InMemoryLogReader} of it as the doorbell), USD, the {@link FIXED_NOW} clock, a 7-day log
 * retention, a silent logger and a 2 s settle wait; `overrides` replace any of them.
 */
export function makeDeps(overrides: Partial<OrdersDeps> = {}): OrdersDeps {
  const fakes = createFakes();
  const merged = {
    reader: fakes.store,
    uow: fakes.store,
    catalog: fakes.catalog,
    customers: fakes.customers,
    payments: fakes.payments,
    events: fakes.events,
    log: fakes.store,
    logRetentionMs: LOG_RETENTION_MS,
    crashPoints: noCrashPoints,
    currency: 'USD',
    clock: fixedClock(),
    settleWaitMs: 2_000,
    logger: fakes.logger,
    ...overrides,
  };
  // The log reader reads whichever store the deps write to, and feeds whichever events they watch.
  const store = merged.uow instanceof InMemoryOrdersStore ? merged.uow : fakes.store;
  const events = merged.events instanceof InMemoryOrderEvents ? merged.events : fakes.events;
  return { ...merged, log: overrides.log ?? store, doorbell: overrides.doorbell ?? new InMemoryLogReader(store, events) };
}

/** Fresh fakes and the deps wired to them (deps fields can still be overridden). */
export function setUpOrders(overrides: Partial<OrdersDeps> = {}): OrdersFakes & { readonly deps: OrdersDeps } {
  const fakes = createFakes();
  const deps = makeDeps({
    reader: fakes.store,
    uow: fakes.store,
    catalog: fakes.catalog,
    customers: fakes.customers,
    payments: fakes.payments,
    events: fakes.events,
    log: fakes.store,
    logger: fakes.logger,
    ...overrides,
  });
  return { ...fakes, deps };
}

/** The in-memory log reader behind deps made by {@link makeDeps} / {@link setUpOrders} (unless overridden). */
export function logReaderOf(deps: Pick<OrdersDeps, 'doorbell'>): InMemoryLogReader {
  if (!(deps.doorbell instanceof InMemoryLogReader)) throw new Error('these deps do not use the InMemoryLogReader');
  return deps.doorbell;
}

/** A promise with its resolve function outside, to hold a fake's answer until a test lets it go. */
export function deferred<T>(): { readonly promise: Promise<T>; readonly resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The error of a failed result, or a test failure for an ok one. */
export function errorOf<E>(result: Result<unknown, E>): E {
  if (result.ok) throw new Error(`expected an error result, got ok: ${JSON.stringify(result.value)}`);
  return result.error;
}

/** The value of an ok result, or a test failure for an error one. */
export function valueOf<T>(result: Result<T, unknown>): T {
  if (!result.ok) throw new Error(`expected an ok result, got error: ${String(result.error)}`, { cause: result.error });
  return result.value;
}
