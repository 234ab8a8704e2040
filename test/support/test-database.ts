import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.ts';

/**
 * A fresh migrated database and a MikroORM on it for the enclosing test file or `describe` block:
 * created in `beforeAll` (before the block's own `beforeAll` hooks), closed in `afterAll`. Read
 * `db` and `orm` inside tests and hooks; they throw when read before the database is open.
 */
export function useTestDatabase(): { readonly db: TestDatabase; readonly orm: MikroORM } {
  let db: TestDatabase | undefined;
  let orm: MikroORM | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await db.openOrm();
  });
  afterAll(async () => {
    await db?.close();
  });
  const opened = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the test database is opened in beforeAll; read it inside a test or hook');
    return value;
  };
  return {
    get db() {
      return opened(db);
    },
    get orm() {
      return opened(orm);
    },
  };
}
