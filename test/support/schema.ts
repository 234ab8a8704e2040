/** Runs one statement and answers its rows (e.g. `database.orm.em.fork().getConnection().execute`). */
export type Sql = <R = Record<string, unknown>>(query: string, params?: unknown[]) => Promise<R[]>;

/** The columns of `table` as `name type null|not null`, in table order: what a migration test compares. */
export async function columnsOf(sql: Sql, table: string): Promise<string[]> {
  const columns = await sql<{ name: string; type: string; nullable: string }>(
    "select column_name as name, format_type(atttypid, atttypmod) as type, is_nullable as nullable from information_schema.columns join pg_attribute on attrelid = (table_schema || '.' || table_name)::regclass and attname = column_name where table_name = ? order by ordinal_position",
    [table],
  );
  return columns.map((c) => `${c.name} ${c.type} ${c.nullable === 'YES' ? 'null' : 'not null'}`);
}
