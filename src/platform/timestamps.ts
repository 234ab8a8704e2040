/**
 * Instants PostgreSQL's `timestamptz` can store and JavaScript reads back unchanged: years 0001 to
 * 9999. PostgreSQL spans 4713 BC to 294276 AD but has no year 0 (ISO 8601's 0000, which `Date`
 * and the DateTime scalar accept), and V8's `Date` reaches years ±275760, which PostgreSQL refuses
 * as out of range; within 0001–9999 both agree, and every real timestamp lies there.
 */
const FIRST_STORABLE = Date.parse('0001-01-01T00:00:00.000Z');
const LAST_STORABLE = Date.parse('9999-12-31T23:59:59.999Z');

/** Whether PostgreSQL's timestamptz can hold `date` (a valid Date in years 0001–9999). */
export function isStorableInstant(date: Date): boolean {
  const time = date.getTime();
  return Number.isFinite(time) && time >= FIRST_STORABLE && time <= LAST_STORABLE;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Reads an instant written exactly as `Date.prototype.toISOString` writes it (`2026-01-02T03:04:05.678Z`),
 * the form cursors carry. Anything else V8's lenient `Date.parse` would accept (`"1"` is 2001,
 * `"0"` is 2000, RFC 2822 dates, six-digit years) is refused, as are instants outside
 * {@link isStorableInstant}.
 * @returns the instant, or undefined when `text` is not such a string.
 */
export function parseIsoInstant(text: string): Date | undefined {
  if (!ISO_INSTANT.test(text)) return undefined;
  const date = new Date(text);
  // The round trip refuses impossible dates that the pattern lets through (2026-02-30).
  return isStorableInstant(date) && date.toISOString() === text ? date : undefined;
}
