// The order log's positions and the opaque cursor clients resume from (ADR 0012).

/**
 * A position in the order log (ADR 0012): the id of the transaction that wrote the outbox row
 * (`xid8`) and the row's id. Positions compare as (txId, id); a reader only reads rows whose
 * transaction id is below the commit horizon (`pg_snapshot_xmin(pg_current_snapshot())`), so a
 * row can never appear behind a position a reader has passed.
 */
export interface LogPosition {
  readonly txId: bigint;
  readonly id: number;
}

/** What a cursor carries: a position and when its row was written (whole seconds, rounded down). */
export interface DecodedCursor {
  readonly position: LogPosition;
  readonly writtenAt: Date;
}

/** Cursor format 1: version byte, txId (u64), id (u64), write time (u32 epoch seconds), big-endian. */
const FORMAT = 1;
const BYTES = 1 + 8 + 8 + 4;
/** base64url of BYTES bytes, no padding: 28 characters, well inside a 123-byte WebSocket close reason. */
const SHAPE = /^[A-Za-z0-9_-]{28}$/;
const MAX_U64 = (1n << 64n) - 1n;
const MAX_U32 = 2 ** 32 - 1;

/**
 * The opaque cursor of a log row: base64url, 28 characters.
 * @throws RangeError for a position or time no row can have (negative, or beyond u64/u32): a bug.
 */
export function encodeCursor(position: LogPosition, writtenAt: Date): string {
  const seconds = Math.floor(writtenAt.getTime() / 1_000);
  if (position.txId < 0n || position.txId > MAX_U64 || !Number.isSafeInteger(position.id) || position.id < 0 || !(seconds >= 0 && seconds <= MAX_U32)) {
    throw new RangeError('log position or write time out of range for a cursor');
  }
  const bytes = Buffer.alloc(BYTES);
  bytes.writeUInt8(FORMAT, 0);
  bytes.writeBigUInt64BE(position.txId, 1);
  bytes.writeBigUInt64BE(BigInt(position.id), 9);
  bytes.writeUInt32BE(seconds, 17);
  return bytes.toString('base64url');
}

/**
 * Reads a cursor made by {@link encodeCursor}.
 * @returns undefined for anything else (wrong length, alphabet or format, an id beyond 2^53):
 * the caller answers VALIDATION_FAILED.
 */
export function decodeCursor(cursor: string): DecodedCursor | undefined {
  if (!SHAPE.test(cursor)) return undefined;
  // 28 characters are exactly 21 bytes (no stray bits), so each cursor has one spelling.
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.length !== BYTES || bytes.readUInt8(0) !== FORMAT) return undefined;
  const id = bytes.readBigUInt64BE(9);
  if (id > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return {
    position: { txId: bytes.readBigUInt64BE(1), id: Number(id) },
    writtenAt: new Date(bytes.readUInt32BE(17) * 1_000),
  };
}

/** Log order: negative when `a` comes before `b`, 0 when equal, positive after. */
export function comparePositions(a: LogPosition, b: LogPosition): number {
  if (a.txId !== b.txId) return a.txId < b.txId ? -1 : 1;
  return a.id - b.id;
}

/** Whether `a` comes strictly after `b` in the log (`b` undefined: nothing read yet, so yes). */
export function isAfter(a: LogPosition, b: LogPosition | undefined): boolean {
  return b === undefined || comparePositions(a, b) > 0;
}

/**
 * Whether a cursor's row is older than the retention window, so rows after it may have been
 * pruned (the client must re-query: CURSOR_EXPIRED). The pruner deletes only a log prefix whose
 * rows are all older than the window, plus a margin for clocks (see the infrastructure's pruner):
 * a cursor this accepts has every later row still in the log. `writtenAt` is rounded down to whole
 * seconds, which errs towards expiring.
 * @param retentionMs the window, in ms (ORDER_LOG_RETENTION_HOURS).
 */
export function isExpired(writtenAt: Date, now: Date, retentionMs: number): boolean {
  return writtenAt.getTime() < now.getTime() - retentionMs;
}
