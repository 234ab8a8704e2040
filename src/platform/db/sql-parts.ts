import type { EntityManager, EntityName, MetadataStorage } from '@mikro-orm/postgresql';
import type { CompiledSelect, SlotValues } from './compiled-select.ts';
import type { SqlFragment } from './sql-fragment.ts';

/**
 * The statement MikroORM's QueryBuilder compiled (see `compileSelect`, which keeps any statement it
 * builds, writes too) with a `?` in each hole and its slot values in hole order: a part to embed in
 * a composed statement, or to run as it is.
 * @throws when a slot has no value.
 */
export function fragmentOf(statement: CompiledSelect<object>, values: SlotValues): SqlFragment {
  return {
    sql: statement.chunks.join('?'),
    params: statement.slots.map((name) => {
      if (!(name in values)) throw new Error(`no value for slot ${name}`);
      return values[name];
    }),
  };
}

/**
 * Runs a statement, inside the EntityManager's transaction when it has one; MikroORM inlines the
 * values (quoted by the platform, as it does for its own statements).
 * @returns the rows as PostgreSQL names their columns.
 */
export function execute<R>(em: EntityManager, statement: SqlFragment): Promise<R[]> {
  return em.getConnection().execute<R[]>(statement.sql, [...statement.params], 'all', em.getTransactionContext());
}

/**
 * Quoted names of an entity's table and columns, from MikroORM's metadata (the one place they are
 * written), for the SQL MikroORM's QueryBuilder cannot build: the glue between the parts of a
 * composed statement.
 * @throws when a property has no column.
 */
export function sqlNames<E extends object>(em: EntityManager, entity: EntityName<E>) {
  const meta = em.getMetadata().get(entity);
  const platform = em.getPlatform();
  const column = (property: keyof E & string): string => {
    const field = (meta.properties as Record<string, { fieldNames?: string[] } | undefined>)[property]?.fieldNames?.[0];
    if (!field) throw new Error(`${meta.className}.${property} has no column`);
    return platform.quoteIdentifier(field);
  };
  return {
    table: platform.quoteIdentifier(meta.tableName),
    column,
    /** The columns of these properties, comma-separated, in this order. */
    columns: (...properties: (keyof E & string)[]): string => properties.map(column).join(', '),
  };
}

/**
 * A value built once per ORM from its metadata (statement texts: the metadata decides table and
 * column names), and reused for every call after that.
 */
export function perOrm<T>(build: (em: EntityManager) => T): (em: EntityManager) => T {
  const built = new WeakMap<MetadataStorage, T>();
  return (em) => {
    const metadata = em.getMetadata();
    let value = built.get(metadata);
    if (value === undefined) {
      value = build(em);
      built.set(metadata, value);
    }
    return value;
  };
}
