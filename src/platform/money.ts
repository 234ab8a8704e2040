/**
 * Money as an integer count of minor currency units (cents for USD) plus an ISO 4217 code.
 * Never a float: amounts cross the API as exact decimal strings ("19.99").
 */
export interface Money {
  /** Integer minor units, e.g. 1999 for 19.99 USD. A safe integer. */
  readonly minor: number;
  /** ISO 4217 currency code, e.g. "USD". */
  readonly currency: string;
}

const exponentCache = new Map<string, number>();

/**
 * Number of minor-unit digits of an ISO 4217 currency (2 for USD, 0 for JPY), as ICU/CLDR define it.
 * @throws RangeError for a code Intl does not know.
 */
export function currencyExponent(currency: string): number {
  let exponent = exponentCache.get(currency);
  if (exponent === undefined) {
    exponent = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    exponentCache.set(currency, exponent);
  }
  return exponent;
}

/** Formats minor units as an exact decimal string: (1999, "USD") → "19.99"; (-5, "USD") → "-0.05". */
export function formatMinor(minor: number, currency: string): string {
  const exponent = currencyExponent(currency);
  if (exponent === 0) return String(minor);
  // Integer arithmetic only (% and an exact division), so every safe integer formats exactly;
  // every Money field of every response comes through here (issue 6 profile).
  const divisor = 10 ** exponent;
  const abs = Math.abs(minor);
  const fraction = String(abs % divisor);
  const whole = (abs - (abs % divisor)) / divisor;
  return `${minor < 0 ? '-' : ''}${whole}.${fraction.length < exponent ? '0'.repeat(exponent - fraction.length) + fraction : fraction}`;
}

/**
 * Parses an exact decimal string into minor units: ("19.99", "USD") → 1999, ("5", "USD") → 500.
 * Returns undefined for anything that is not a plain non-negative decimal with at most the
 * currency's number of fraction digits, or that exceeds Number.MAX_SAFE_INTEGER minor units.
 */
export function parseMinor(amount: string, currency: string): number | undefined {
  const exponent = currencyExponent(currency);
  const match = /^(\d{1,15})(?:\.(\d+))?$/.exec(amount.trim());
  if (!match) return undefined;
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) return undefined;
  const minor = Number(match[1]) * 10 ** exponent + Number(fraction.padEnd(exponent, '0') || '0');
  return Number.isSafeInteger(minor) ? minor : undefined;
}

/**
 * `amount × percent / 100`, rounded half-up to the minor unit, in exact integer arithmetic.
 * Amounts here are non-negative, so half-up and half-away-from-zero agree.
 */
export function percentOfMinor(minor: number, percent: number): number {
  const scaled = BigInt(minor) * BigInt(percent);
  const quotient = scaled / 100n;
  const remainder = scaled % 100n;
  return Number(remainder * 2n >= 100n ? quotient + 1n : quotient);
}
