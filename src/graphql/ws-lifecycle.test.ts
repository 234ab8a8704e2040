import { describe, expect, it } from 'vitest';
import { resumeReason } from './ws-lifecycle.ts';

/** A socket's resume position: the cursor and version of the last result written to it. */
const socketAt = (cursor?: string, version?: number) => ({ lastCursor: cursor, lastVersion: version });

describe('resumeReason', () => {
  it('is JSON with the last cursor, its version and the reconnect delay when given', () => {
    expect(JSON.parse(resumeReason(socketAt('AQAAAAAAAAPoAAAAAAAAACpnUJ2A', 7), 1_234))).toEqual({ reconnectInMs: 1_234, cursor: 'AQAAAAAAAAPoAAAAAAAAACpnUJ2A', version: 7 });
    expect(JSON.parse(resumeReason(socketAt('AQAAAAAAAAPoAAAAAAAAACpnUJ2A')))).toEqual({ cursor: 'AQAAAAAAAAPoAAAAAAAAACpnUJ2A' });
  });

  it('is {} before any result with a cursor was written', () => {
    expect(resumeReason(socketAt())).toBe('{}');
    expect(JSON.parse(resumeReason(socketAt(), 0))).toEqual({ reconnectInMs: 0 });
  });

  it('leaves out a cursor that would not fit a close frame (123 bytes) rather than cut it', () => {
    const reason = resumeReason(socketAt('c'.repeat(120), 3), 9_999);
    expect(JSON.parse(reason)).toEqual({ reconnectInMs: 9_999 });
    expect(Buffer.byteLength(resumeReason(socketAt('c'.repeat(80), 2 ** 31), 599_999))).toBeLessThanOrEqual(123);
  });
});
