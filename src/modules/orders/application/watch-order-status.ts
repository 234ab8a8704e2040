import { NotFoundError, UnauthenticatedError, ValidationError } from '../../../platform/errors.ts';
import { canSeeOwnedBy, isAdmin, viewerCustomerId, type OpContext } from '../../../platform/op-context.ts';
import { err, ok, type Result } from '../../../platform/result.ts';
import { CursorExpiredError } from '../domain/errors.ts';
import type { Order, OrderStatusChange } from '../domain/order.ts';
import { decodeCursor, isAfter, isExpired } from '../domain/order-log-cursor.ts';
import type { LoggedChange, LogPosition, OrderEvents, OrderLog, OrderLogFilter, OrderReader } from './ports.ts';

/**
 * One event of an order status stream: a committed change with the cursor to resume after it.
 * `cursor` is null only for a change read from the audit trail (an `afterVersion` replay, a
 * snapshot) whose log row is gone (older than the log's retention window) or not yet a safe resume
 * point (see OrderReader.findHistorySince); a later event carries one. `snapshot` is set on the
 * first event of a `snapshot: true` stream: the order's latest change as it stood when the stream
 * started.
 */
export interface OrderStatusEvent extends OrderStatusChange {
  readonly cursor: string | null;
  readonly snapshot?: boolean;
}

/** Where a stream starts. At most one of `afterVersion`, `after` and `snapshot`. */
export interface WatchOrderStatusInput {
  readonly orderId?: string | null;
  /** With orderId: replay every recorded change with a greater version first. */
  readonly afterVersion?: number | null;
  /** An opaque cursor of an earlier event: replay every change after it first (filtered to orderId when given). */
  readonly after?: string | null;
  /** With orderId: the order's latest change first (marked `snapshot`), then every later one. */
  readonly snapshot?: boolean | null;
}

/**
 * Follows order status changes; every stream listens before it reads, then drops what it has
 * already yielded, so the replay and the live changes join with no gap and no duplicate.
 * - With `orderId`: that order (owner or admin; anyone else gets NOT_FOUND, as for a missing id),
 *   live from its current version, or first the history after `afterVersion`, the log after
 *   `after`, or the order's latest change (`snapshot`).
 * - Without `orderId`: every change of every order the viewer may see (admin: all), live, or
 *   first the log after `after` (a customer's own orders only).
 * Authorization is checked when the stream is created and again for every event.
 * @returns the stream, or UNAUTHENTICATED, NOT_FOUND, CURSOR_EXPIRED (`after` older than the
 * log's retention window), VALIDATION_FAILED (negative afterVersion, a malformed cursor,
 * afterVersion or snapshot without orderId, more than one starting point).
 */
export type WatchOrderStatus = (
  op: OpContext,
  input: WatchOrderStatusInput,
) => Promise<Result<AsyncIterable<OrderStatusEvent>, UnauthenticatedError | NotFoundError | ValidationError | CursorExpiredError>>;

/** What {@link createWatchOrderStatus} needs: reads, the log and this instance's live changes. */
export interface WatchOrderStatusDeps {
  readonly reader: OrderReader;
  readonly log: OrderLog;
  readonly events: OrderEvents;
  readonly clock: () => Date;
  /** How long the log keeps changes, in ms (ORDER_LOG_RETENTION_HOURS): older cursors are CURSOR_EXPIRED. */
  readonly logRetentionMs: number;
}

/** Rows per replay read of the log: bounds the memory of one resuming stream. */
const REPLAY_BATCH = 500;

/** Where a per-order stream starts, once the input is checked. */
type Start =
  | { readonly kind: 'live' }
  | { readonly kind: 'afterVersion'; readonly version: number }
  | { readonly kind: 'after'; readonly position: LogPosition }
  | { readonly kind: 'snapshot' };

export function createWatchOrderStatus(deps: WatchOrderStatusDeps): WatchOrderStatus {
  return async (op, input) => {
    if (op.viewer.kind === 'anonymous') return err(new UnauthenticatedError());
    const start = startOf(input, deps);
    if (!start.ok) return start;
    const { orderId } = input;
    // Listen now, not at the first next(), so nothing delivered during the reads below is lost.
    const controller = abortedWith(op.signal);
    const live = deps.events.subscribe(controller.signal);
    if (orderId == null) {
      const from = start.value.kind === 'after' ? start.value.position : undefined;
      // A customer's replay reads only their own rows; the per-event check below still applies.
      const filter: OrderLogFilter = isAdmin(op.viewer) ? {} : { customerId: viewerCustomerId(op.viewer)! };
      return ok(followAll(op, live, controller, from === undefined ? undefined : { log: deps.log, from, filter }));
    }
    const [order] = await deps.reader.findByIds([orderId]).catch((error: unknown) => {
      controller.abort();
      throw error;
    });
    if (!order || !canSeeOwnedBy(op.viewer, order.customerId)) {
      controller.abort();
      return err(new NotFoundError('order'));
    }
    return ok(followOne(op, deps, order, start.value, live, controller));
  };
}

/**
 * A stream's own controller, aborted with the operation too. Not AbortSignal.any([op.signal,
 * controller.signal]): its weak references and finalization registry cost ~1 KB more per
 * subscription, i.e. per idle subscribed socket (issue 14, measured with 20,000 signals). Out here
 * so that the listener holds nothing but the controller (a closure inside the use case would keep
 * its `deps`, the scope's EntityManager fork among them, for the life of the stream).
 */
function abortedWith(operation: AbortSignal): AbortController {
  const controller = new AbortController();
  if (operation.aborted) controller.abort();
  else operation.addEventListener('abort', () => controller.abort(), { once: true });
  return controller;
}

/** The stream's starting point, or why the input cannot start one. */
function startOf(input: WatchOrderStatusInput, deps: Pick<WatchOrderStatusDeps, 'clock' | 'logRetentionMs'>): Result<Start, ValidationError | CursorExpiredError> {
  const { orderId, afterVersion, after, snapshot } = input;
  if (afterVersion != null && (!Number.isInteger(afterVersion) || afterVersion < 0)) {
    return err(ValidationError.of(['afterVersion'], 'must be a non-negative integer'));
  }
  if (orderId == null && afterVersion != null) return err(ValidationError.of(['afterVersion'], 'needs orderId: replay by version is per order; use after'));
  if (orderId == null && snapshot) return err(ValidationError.of(['snapshot'], 'needs orderId: a snapshot is of one order'));
  if ([afterVersion != null, after != null, snapshot === true].filter(Boolean).length > 1) {
    return err(ValidationError.of(after != null ? ['after'] : ['snapshot'], 'give at most one of afterVersion, after and snapshot'));
  }
  if (after != null) {
    const cursor = decodeCursor(after);
    if (!cursor) return err(ValidationError.of(['after'], 'is not a cursor of an orderStatusChanged event'));
    if (isExpired(cursor.writtenAt, deps.clock(), deps.logRetentionMs)) return err(new CursorExpiredError(cursor.writtenAt, deps.logRetentionMs));
    return ok({ kind: 'after', position: cursor.position });
  }
  if (afterVersion != null) return ok({ kind: 'afterVersion', version: afterVersion });
  return ok(snapshot ? { kind: 'snapshot' } : { kind: 'live' });
}

/** Every change of the log after `from` that `filter` keeps, in log order, read in batches. */
async function* readLog(log: OrderLog, from: LogPosition, filter: OrderLogFilter): AsyncGenerator<LoggedChange> {
  let position = from;
  for (;;) {
    const batch = await log.readAfter(position, filter, REPLAY_BATCH);
    yield* batch;
    if (batch.length < REPLAY_BATCH) return;
    position = batch.at(-1)!.position;
  }
}

/** What a per-order stream yields before it goes live, in version order. */
async function* replayOne(
  deps: Pick<WatchOrderStatusDeps, 'reader' | 'log'>,
  order: Order,
  start: Start,
): AsyncGenerator<OrderStatusEvent> {
  switch (start.kind) {
    case 'live':
      return;
    case 'afterVersion':
      yield* await deps.reader.findHistorySince(order.id, start.version);
      return;
    case 'after':
      yield* readLog(deps.log, start.position, { orderId: order.id });
      return;
    case 'snapshot': {
      // The change that made the version just read (the audit trail only grows), then any made
      // since: those may also arrive live, and are dropped there by version.
      const [latest, ...later] = await deps.reader.findHistorySince(order.id, order.version - 1);
      if (latest) yield { ...latest, snapshot: true };
      yield* later;
    }
  }
}

async function* followOne(
  op: OpContext,
  deps: Pick<WatchOrderStatusDeps, 'reader' | 'log'>,
  order: Order,
  start: Start,
  live: AsyncIterable<LoggedChange>,
  controller: AbortController,
): AsyncGenerator<OrderStatusEvent> {
  // Live changes at or before these were replayed (or precede the stream's start). Per order, log
  // order is version order (ADR 0012), so the version alone decides once a change was yielded.
  let lastVersion = start.kind === 'live' ? order.version : start.kind === 'afterVersion' ? start.version : 0;
  const floor = start.kind === 'after' ? start.position : undefined;
  try {
    for await (const change of replayOne(deps, order, start)) {
      if (op.signal.aborted) return;
      if (change.version <= lastVersion) continue;
      yield change;
      lastVersion = change.version;
    }
    for await (const change of live) {
      if (change.orderId !== order.id || change.version <= lastVersion || !isAfter(change.position, floor)) continue;
      if (!canSeeOwnedBy(op.viewer, change.customerId)) return;
      yield change;
      lastVersion = change.version;
    }
  } finally {
    controller.abort();
  }
}

/** A replay of the log before the live changes of an all-orders stream. */
interface AllReplay {
  readonly log: OrderLog;
  readonly from: LogPosition;
  readonly filter: OrderLogFilter;
}

/**
 * The live stream filtered to what the viewer may see, after the log's changes since `replay.from`
 * when resuming. A plain iterator rather than an async generator: every subscriber runs it for
 * every event, and a generator's `for await` and `yield` cost promise hops that, times 10,000
 * subscribers, delay the first socket write (issue 6). Once a live change comes after the last
 * replayed position, every later one does (the live stream is in log order), so the position check
 * stops and the live path is what it is without a replay.
 * Kept over a Repeater (what yoga's `filter` is; issue 13, measured): +1.8 KB heap per subscription
 * and, at 10,000 subscribers, the in-process fan-out of one event 22 → 110 ms.
 */
function followAll(op: OpContext, live: AsyncIterable<LoggedChange>, controller: AbortController, replay: AllReplay | undefined): AsyncIterableIterator<OrderStatusEvent> {
  const source = live[Symbol.asyncIterator]();
  let replaying = replay ? readLog(replay.log, replay.from, replay.filter) : undefined;
  let floor = replay?.from;
  const fail = (error: unknown): never => {
    controller.abort();
    throw error;
  };
  const pullLive = (): Promise<IteratorResult<OrderStatusEvent>> =>
    source.next().then((result) => {
      if (result.done) controller.abort();
      else if (floor !== undefined && !isAfter(result.value.position, floor)) return pullLive();
      else if (!canSeeOwnedBy(op.viewer, result.value.customerId)) return pullLive();
      else floor = undefined;
      return result;
    }, fail);
  const pullReplay = async (from: AsyncGenerator<LoggedChange>): Promise<IteratorResult<OrderStatusEvent>> => {
    // An aborted stream stops reading the log; the live source then answers done.
    while (!controller.signal.aborted && !op.signal.aborted) {
      const result = await from.next().catch(fail);
      if (result.done) break;
      floor = result.value.position;
      if (canSeeOwnedBy(op.viewer, result.value.customerId)) return result;
    }
    replaying = undefined;
    return pullLive();
  };
  const stop = async () => {
    controller.abort();
    await replaying?.return(undefined);
    await source.return?.();
  };
  return {
    next: () => (replaying ? pullReplay(replaying) : pullLive()),
    return: async () => {
      await stop();
      return { done: true, value: undefined };
    },
    throw: async (error?: unknown) => {
      await stop();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
