import { describe, expect, it } from 'vitest';
import { comparePositions, decodeCursor, encodeCursor, isAfter, isExpired } from './order-log-cursor.ts';

const at = new Date('2026-12-04T10:11:12.987Z');

describe('order log cursor', () => {
  it.each([
    { txId: 3n, id: 1 },
    { txId: (5n << 32n) | 0xffff_fffen, id: Number.MAX_SAFE_INTEGER },
    { txId: (1n << 64n) - 1n, id: 0 },
  ])('round-trips position $txId/$id with the write time in whole seconds', (position) => {
    const cursor = encodeCursor(position, at);
    expect(decodeCursor(cursor)).toEqual({ position, writtenAt: new Date('2026-12-04T10:11:12.000Z') });
  });

  it('is short enough for a WebSocket close reason (123 bytes) with JSON around it', () => {
    const cursor = encodeCursor({ txId: (1n << 64n) - 1n, id: Number.MAX_SAFE_INTEGER }, at);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.byteLength(JSON.stringify({ code: 'RESUME', after: cursor, retryInMs: 12_345 }))).toBeLessThanOrEqual(123);
  });

  it.each([
    ['empty', ''],
    ['not base64url', '!'.repeat(28)],
    ['too short', encodeCursor({ txId: 9n, id: 9 }, at).slice(0, 27)],
    ['too long', `${encodeCursor({ txId: 9n, id: 9 }, at)}A`],
    ['padded base64', `${Buffer.alloc(21, 1).toString('base64')}`],
    ['another format byte', Buffer.concat([Buffer.from([2]), Buffer.alloc(20)]).toString('base64url')],
    ['an id beyond 2^53', Buffer.concat([Buffer.from([1]), Buffer.alloc(8), Buffer.from('0020000000000000', 'hex'), Buffer.alloc(4)]).toString('base64url')],
    ['an afterVersion number', '12'],
  ])('decodes %s to undefined', (_label, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });

  it('throws on positions no row can have', () => {
    expect(() => encodeCursor({ txId: -1n, id: 1 }, at)).toThrow(RangeError);
    expect(() => encodeCursor({ txId: 1n, id: 1.5 }, at)).toThrow(RangeError);
    expect(() => encodeCursor({ txId: 1n, id: 1 }, new Date(-1_000))).toThrow(RangeError);
  });

  it('orders positions by transaction id first, then row id', () => {
    const positions = [
      { txId: 10n, id: 7 },
      { txId: 9n, id: 8 },
      { txId: 10n, id: 3 },
    ];
    expect([...positions].sort(comparePositions)).toEqual([positions[1], positions[2], positions[0]]);
    expect(comparePositions({ txId: 4n, id: 4 }, { txId: 4n, id: 4 })).toBe(0);
    expect(isAfter({ txId: 10n, id: 1 }, { txId: 9n, id: 99 })).toBe(true);
    expect(isAfter({ txId: 9n, id: 99 }, { txId: 9n, id: 99 })).toBe(false);
    expect(isAfter({ txId: 1n, id: 1 }, undefined)).toBe(true);
  });

  it('expires a write time older than the retention window', () => {
    const now = new Date('2026-12-11T10:11:12.000Z');
    const week = 7 * 24 * 3_600_000;
    expect(isExpired(new Date(now.getTime() - week), now, week)).toBe(false);
    expect(isExpired(new Date(now.getTime() - week - 1_000), now, week)).toBe(true);
  });
});
