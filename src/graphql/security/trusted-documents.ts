import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse, print, separateOperations } from 'graphql';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { z } from 'zod';

/**
 * Trusted documents: hash → document, in the format of GraphQL Code Generator's client preset
 * (`persistedDocuments: true` writes `persisted-documents.json`, an object of SHA-256 hex digests
 * of each document to the document).
 */
export type TrustedDocuments = ReadonlyMap<string, string>;

/** SHA-256 hex digest of a document's text, as the client preset computes it. */
export const documentHash = (document: string): string => createHash('sha256').update(document).digest('hex');

const manifestSchema = z.record(z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest'), z.string().min(1));

/**
 * Reads and checks a manifest: a JSON object of hash → document in which every hash is the
 * SHA-256 of its document (so a tampered or hand-edited entry cannot slip in under a known hash).
 * @throws Error naming the file and what is wrong with it.
 */
export async function loadTrustedDocuments(path: string): Promise<TrustedDocuments> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new Error(`TRUSTED_DOCUMENTS_MANIFEST ${path} is not a readable JSON file`, { cause });
  }
  const manifest = manifestSchema.safeParse(parsed);
  if (!manifest.success) throw new Error(`TRUSTED_DOCUMENTS_MANIFEST ${path} is not an object of SHA-256 hex digest → document`);
  for (const [hash, document] of Object.entries(manifest.data)) {
    if (documentHash(document) !== hash) throw new Error(`TRUSTED_DOCUMENTS_MANIFEST ${path}: ${hash} is not the SHA-256 of its document`);
  }
  return new Map(Object.entries(manifest.data));
}

/**
 * Builds a manifest from GraphQL sources the way a client build would: one document per
 * operation, with the fragments it uses, printed by graphql-js and keyed by its SHA-256.
 */
export function buildTrustedDocuments(sources: readonly string[]): Record<string, string> {
  const manifest: Record<string, string> = {};
  const operations = separateOperations(parse(sources.join('\n')));
  for (const name of Object.keys(operations).sort()) {
    const document = print(operations[name]!);
    manifest[documentHash(document)] = document;
  }
  return manifest;
}

/**
 * The document id a client sent: `extensions.persistedQuery.sha256Hash` (Apollo's format, which
 * the client preset's docs and yoga's examples use) or `documentId` (the GraphQL over HTTP
 * trusted-documents draft, `sha256:<hex>` or bare hex).
 */
export function persistedDocumentId(params: GraphQLParams & { documentId?: unknown }): string | null {
  const extensions = params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined;
  const apq = extensions?.persistedQuery;
  if (apq && apq.version === 1 && typeof apq.sha256Hash === 'string') return apq.sha256Hash;
  if (typeof params.documentId === 'string') return params.documentId.replace(/^sha256:/, '');
  return null;
}

/** yoga must accept `documentId` as a request parameter for {@link persistedDocumentId}. */
export const TRUSTED_DOCUMENT_PARAMS = ['documentId'] as const;

/**
 * Executes only documents from the manifest: a request names one by hash; a request with a
 * `query` text, with no id, or with an unknown id is refused with 400 and a code
 * (PERSISTED_QUERY_ONLY, PERSISTED_QUERY_ID_REQUIRED, PERSISTED_QUERY_NOT_FOUND). Trusted
 * documents still go through validation and every limit.
 */
export function useTrustedDocuments(documents: TrustedDocuments): Plugin {
  const error = (message: string, code: string) => ({ message, extensions: { code, http: { status: 400 } } });
  return usePersistedOperations({
    getPersistedOperation: (hash) => documents.get(hash) ?? null,
    extractPersistedOperationId: (params) => persistedDocumentId(params),
    allowArbitraryOperations: false,
    customErrors: {
      persistedQueryOnly: error('Only trusted documents are executed here: send a document id, not a query', 'PERSISTED_QUERY_ONLY'),
      keyNotFound: error('Send the id of a trusted document (extensions.persistedQuery.sha256Hash or documentId)', 'PERSISTED_QUERY_ID_REQUIRED'),
      notFound: error('No trusted document has this id', 'PERSISTED_QUERY_NOT_FOUND'),
    },
  }) as Plugin;
}
