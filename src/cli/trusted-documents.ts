import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { buildTrustedDocuments } from '../graphql/security/trusted-documents.ts';

const OPERATIONS_DIR = new URL('../../test/operations/', import.meta.url);
const MANIFEST = new URL('../../test/security/persisted-documents.json', import.meta.url);

/**
 * The trusted-documents manifest of the operations in test/operations, as a client app's build
 * writes one (GraphQL Code Generator client preset, `persistedDocuments: true`): hash → document.
 */
export function currentTrustedDocuments(): string {
  const sources = readdirSync(OPERATIONS_DIR)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => readFileSync(new URL(file, OPERATIONS_DIR), 'utf8'));
  return `${JSON.stringify(buildTrustedDocuments(sources), null, 2)}\n`;
}

// `npm run trusted-documents` rewrites the committed manifest; a test fails when it drifts.
if (import.meta.main) {
  writeFileSync(MANIFEST, currentTrustedDocuments());
  process.stdout.write('test/security/persisted-documents.json written\n');
}
