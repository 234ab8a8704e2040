/**
 * A piece of SQL with a `?` for each value and the values in that order, as MikroORM's raw
 * fragments are: a statement one module builds on its own tables for another to embed in one
 * statement of its own (a data-modifying CTE), so that both change in one round trip and one
 * transaction (issue 12, ADR 0011). Framework-free, so ports can name it.
 */
export interface SqlFragment {
  readonly sql: string;
  readonly params: readonly unknown[];
}
