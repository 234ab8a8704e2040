import type { Collection, EntityManager, EntityMetadata, EntityName, MetadataStorage, QueryBuilder } from '@mikro-orm/postgresql';

/**
 * A statement that MikroORM's QueryBuilder built from the entity metadata, kept as its SQL text
 * with a hole for each value ({@link slot}), so it can run again with new values without building
 * it again. `E` names the entity it was built on (documentation only: any compiled statement
 * goes wherever one is expected).
 */
// biome-ignore lint: E documents the entity; it does not constrain the shape
export interface CompiledSelect<E extends object = object> {
  /** The entity whose metadata maps the rows. */
  readonly meta: EntityMetadata;
  /** The SQL text between the holes (one more than `slots`). */
  readonly chunks: readonly string[];
  /** The name of the slot of each hole, in text order (a name may come back, e.g. in a subquery). */
  readonly slots: readonly string[];
}

/**
 * A row of entity `E` as MikroORM's result mapper gives it without hydration: its column
 * properties (collections of relations left out), NULL as null.
 */
export type PlainRow<E> = { readonly [K in keyof E as E[K] extends Collection<object> ? never : K]: Exclude<E[K], undefined> };

/** What a QueryBuilder chain ends in, whatever its kind (select, count, insert, update). */
export interface BuiltQuery {
  toQuery(): { readonly sql: string; readonly params: readonly unknown[] };
}

/** Values of a compiled statement's slots, by slot name (an array fills `in (…)`). */
export type SlotValues = Readonly<Record<string, unknown>>;

const SLOT_PREFIX = '\u0000slot:';
const SLOT_LITERAL = /'\u0000slot:([\w.]+)'/g;

/**
 * Marks where a value goes in a statement built by {@link compileSelect}: use it wherever the
 * QueryBuilder takes a value (`where({ id: { $in: [slot('ids')] } })`, `limit(slot('limit'))`).
 * The mark is a string no value of ours contains (it starts with NUL, which PostgreSQL text refuses).
 */
export function slot<T = string>(name: string): T {
  return `${SLOT_PREFIX}${name}` as T;
}

/**
 * Builds a statement once with MikroORM's QueryBuilder and keeps its text with a hole per slot.
 * Why not build it per call: measured on the bench database, building a QueryBuilder statement
 * (criteria, kysely compile, execute's bookkeeping) costs ~100 µs of CPU a statement, a seventh
 * of an `order(id)` request; running the kept text costs what a raw statement does (ADR 0011).
 * The text is what MikroORM itself sends: it inlines every value into the SQL (`formatQuery`),
 * quoted by the platform's `quoteValue`, and so does {@link runSelect}.
 */
export function compileSelect<E extends object>(em: EntityManager, entity: EntityName<E>, build: (qb: QueryBuilder<E>) => BuiltQuery): CompiledSelect<E> {
  const { sql, params } = build(em.createQueryBuilder(entity) as QueryBuilder<E>).toQuery();
  const text = em.getPlatform().formatQuery(sql, params);
  const parts = text.split(SLOT_LITERAL);
  if (parts.some((part, i) => i % 2 === 0 && part.includes(SLOT_PREFIX))) {
    throw new Error(`a slot of this statement was not kept as a value: ${text}`);
  }
  return {
    meta: em.getMetadata().get(entity) as EntityMetadata,
    chunks: parts.filter((_, i) => i % 2 === 0),
    slots: parts.filter((_, i) => i % 2 === 1),
  };
}

/**
 * Runs a compiled statement with these slot values, inside the EntityManager's transaction when
 * it has one, and maps each row with MikroORM's result mapper (column names to property names,
 * dates, booleans; bigint columns arrive as numbers, see orm.ts): plain objects, no entities.
 * @throws when a slot has no value.
 */
export async function runSelect<R>(em: EntityManager, statement: CompiledSelect, values: SlotValues): Promise<R[]> {
  const platform = em.getPlatform();
  let sql = statement.chunks[0]!;
  for (let i = 0; i < statement.slots.length; i += 1) {
    const name = statement.slots[i]!;
    if (!(name in values)) throw new Error(`no value for slot ${name}`);
    sql += platform.quoteValue(values[name]) + statement.chunks[i + 1]!;
  }
  const rows = await em.getConnection().execute<Record<string, unknown>[]>(sql, [], 'all', em.getTransactionContext());
  const comparator = em.getComparator();
  return rows.map((row) => comparator.mapResult(statement.meta, row) as R);
}

/**
 * Rows a statement returned (`returning *`, column names) as plain objects with property names,
 * by MikroORM's result mapper, the one {@link runSelect} uses.
 */
export function mapRows<E extends object, R = PlainRow<E>>(em: EntityManager, entity: EntityName<E>, rows: readonly Record<string, unknown>[]): R[] {
  const meta = em.getMetadata().get(entity);
  const comparator = em.getComparator();
  return rows.map((row) => comparator.mapResult(meta, row as never) as R);
}

/**
 * A SELECT compiled on first use (per ORM: the metadata decides table and column names) and run
 * with new slot values after that. For the hot reads: order pages' lines, DataLoader batches.
 */
export function preparedSelect<E extends object, R = PlainRow<E>>(entity: EntityName<E>, build: (qb: QueryBuilder<E>) => BuiltQuery) {
  const compiled = new WeakMap<MetadataStorage, CompiledSelect<E>>();
  return {
    /** The rows for these slot values, mapped to property names. */
    all(em: EntityManager, values: SlotValues): Promise<R[]> {
      const metadata = em.getMetadata();
      let statement = compiled.get(metadata);
      if (!statement) {
        statement = compileSelect(em, entity, build);
        compiled.set(metadata, statement);
      }
      return runSelect<R>(em, statement, values);
    },
  };
}
