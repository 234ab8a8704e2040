const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID in its canonical 8-4-4-4-12 hex form (either case), as PostgreSQL's `uuid` prints it. */
export const isUuid = (value: string): boolean => UUID.test(value);
