const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID in its canonical 8-4-4-4-12 hex form (either case), as PostgreSQL's `uuid` prints it. */
export const isUuid = (value: string): boolean => UUID.test(value);

/**
 * Whether `value` is a UUID exactly as this service writes one: lower case, as PostgreSQL prints a
 * `uuid` and `crypto.randomUUID()` makes it. For ids compared as strings (a token's subject, an
 * order id inside a provider key), where another spelling of the same UUID would not match.
 */
export const isLowerCaseUuid = (value: string): boolean => isUuid(value) && value === value.toLowerCase();
