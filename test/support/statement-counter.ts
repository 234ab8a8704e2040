import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';

/**
 * Counts SQL statements at the database driver: every statement the pg client sends on behalf of
 * the measured operation, whatever part of it issued it (resolvers, loaders, plugins). Statements
 * of background workers (the outbox relay still publishing a set-up's changes) run in their own
 * async context and are not counted, so nothing has to be waited out first.
 * Call `install()` before the app starts and `restore()` after it stopped.
 */
export function createStatementCounter() {
  const measured = new AsyncLocalStorage<{ statements: number; texts: string[] }>();
  const originalQuery = pg.Client.prototype.query;
  return {
    install(): void {
      pg.Client.prototype.query = function countingQuery(this: pg.Client, ...args: unknown[]) {
        const counter = measured.getStore();
        if (counter) {
          counter.statements += 1;
          const [query] = args;
          counter.texts.push(typeof query === 'string' ? query : String((query as { text?: unknown } | null)?.text ?? ''));
        }
        return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof pg.Client.prototype.query;
    },
    restore(): void {
      pg.Client.prototype.query = originalQuery;
    },
    /** Runs `operation` and counts the statements it sent (`texts`: their SQL, in the order sent). */
    async measure<T>(operation: () => Promise<T>): Promise<{ result: T; statements: number; texts: string[] }> {
      const counter = { statements: 0, texts: [] as string[] };
      const result = await measured.run(counter, operation);
      return { result, statements: counter.statements, texts: counter.texts };
    },
  };
}
