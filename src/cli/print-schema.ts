import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { createSchema } from '../modules.ts';

/** The SDL of the code-first schema, as committed in schema/schema.graphql. */
export function printCurrentSchema(): string {
  return `${printSchema(createSchema({ currency: 'USD' }))}\n`;
}

// `npm run schema:print` rewrites the committed SDL; a test fails when it drifts from the code.
if (import.meta.main) {
  writeFileSync(new URL('../../schema/schema.graphql', import.meta.url), printCurrentSchema());
  process.stdout.write('schema/schema.graphql written\n');
}
