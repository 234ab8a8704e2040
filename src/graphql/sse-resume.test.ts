import { describe, expect, it } from 'vitest';
import { resumeCursorOf } from './sse-resume.ts';

const overHttp = (headers: Record<string, string>) => ({ request: new Request('http://localhost/graphql', { headers }) });
const CURSOR = 'AQAAAAAAAAPqAAAAAAAAAAdnUE7A';

describe('resumeCursorOf', () => {
  it('is the Last-Event-ID of an HTTP request, trimmed', () => {
    expect(resumeCursorOf(overHttp({ 'last-event-id': ` ${CURSOR} ` }))).toBe(CURSOR);
  });

  it.each([
    ['no Last-Event-ID', overHttp({})],
    ['an empty Last-Event-ID (EventSource resets its last event id so)', overHttp({ 'last-event-id': '' })],
    ['a graphql-ws operation (no request in its context)', { op: {} }],
    ['no context', undefined],
  ])('is undefined for %s', (_, context) => {
    expect(resumeCursorOf(context)).toBeUndefined();
  });

  it('passes a value that cannot be a cursor on, cut short and still invalid, for the decoder to refuse', () => {
    const long = resumeCursorOf(overHttp({ 'last-event-id': 'A'.repeat(10_000) }));
    expect(long).toHaveLength(129);
    expect(resumeCursorOf(overHttp({ 'last-event-id': 'not a cursor' }))).toBe('not?a?cursor');
  });
});
