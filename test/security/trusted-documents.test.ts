import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentTrustedDocuments } from '../../src/cli/trusted-documents.ts';
import { loadConfig } from '../../src/config.ts';
import { documentHash, loadTrustedDocuments } from '../../src/graphql/security/trusted-documents.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { postGraphQL } from './support.ts';

const MANIFEST = new URL('./persisted-documents.json', import.meta.url).pathname;
let manifest: Record<string, string>;
let app: TestApp;

/** The manifest hash of the operation named `name`. */
const hashOf = (name: string) => {
  const entry = Object.entries(manifest).find(([, document]) => new RegExp(`^(query|mutation|subscription) ${name}\\b`, 'm').test(document));
  if (!entry) throw new Error(`no trusted document ${name}`);
  return entry[0];
};
const byHash = (hash: string, variables: Record<string, unknown> = {}) => ({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });

beforeAll(async () => {
  manifest = JSON.parse(await readFile(MANIFEST, 'utf8'));
  app = await startTestApp({ env: { TRUSTED_DOCUMENTS: 'true', TRUSTED_DOCUMENTS_MANIFEST: MANIFEST } });
});
afterAll(() => app?.stop());

describe('the trusted-documents manifest', () => {
  it('is the one a build of test/operations produces (run `npm run trusted-documents` when it drifts)', () => {
    expect(JSON.parse(currentTrustedDocuments())).toEqual(manifest);
    expect(Object.keys(manifest).length).toBeGreaterThanOrEqual(16);
  });

  it('is refused at start-up when an entry does not hash to its key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ordergraph-manifest-'));
    try {
      const [hash] = Object.keys(manifest);
      const tampered = join(dir, 'tampered.json');
      await writeFile(tampered, JSON.stringify({ [hash!]: '{ customers { totalCount } }' }));
      await expect(loadTrustedDocuments(tampered)).rejects.toThrow(/is not the SHA-256 of its document/);
      const notJson = join(dir, 'broken.json');
      await writeFile(notJson, '{');
      await expect(loadTrustedDocuments(notJson)).rejects.toThrow(/not a readable JSON file/);
      await writeFile(notJson, JSON.stringify({ 'not-a-hash': 'query { me { id } }' }));
      await expect(loadTrustedDocuments(notJson)).rejects.toThrow(/SHA-256 hex digest/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is off by default (development keeps GraphiQL free-form) and needs a manifest when on', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).security.trustedDocumentsManifest).toBeUndefined();
    expect(() => loadConfig({ NODE_ENV: 'development', TRUSTED_DOCUMENTS: 'true' })).toThrow(/TRUSTED_DOCUMENTS_MANIFEST is required/);
  });
});

describe('with TRUSTED_DOCUMENTS=true', () => {
  it('runs a trusted document named by its hash, in either id format', async () => {
    const products = await postGraphQL(app.running.url, byHash(hashOf('Products'), { first: 2 }));
    expect(products.status).toBe(200);
    expect(JSON.parse(products.text).data.products.totalCount).toBe(20);
    const signIn = await postGraphQL(app.running.url, {
      documentId: `sha256:${hashOf('SignIn')}`,
      variables: { input: { email: 'basic@ordergraph.dev', password: 'demo-pass-basic' } },
    });
    expect(JSON.parse(signIn.text).data.signIn.__typename).toBe('SignInSuccess');
  });

  it('refuses the text of a trusted document whose answer is cached (no cache hit before the trusted-documents check)', async () => {
    for (let i = 0; i < 2; i += 1) expect((await postGraphQL(app.running.url, byHash(hashOf('Products'), { first: 3 }))).status).toBe(200);
    const reply = await postGraphQL(app.running.url, { query: manifest[hashOf('Products')], variables: { first: 3 } });
    expect(JSON.parse(reply.text).errors[0].extensions.code).toBe('PERSISTED_QUERY_ONLY');
  });

  it.each([
    ['a document text', () => ({ query: '{ products(first: 1) { totalCount } }' }), 'PERSISTED_QUERY_ONLY'],
    ['even a trusted text, sent as text over HTTP', () => ({ query: manifest[hashOf('Me')] }), 'PERSISTED_QUERY_ONLY'],
    ['an unknown hash', () => byHash('0'.repeat(64)), 'PERSISTED_QUERY_NOT_FOUND'],
    ['no id at all', () => ({ variables: {} }), 'PERSISTED_QUERY_ID_REQUIRED'],
  ])('refuses %s with a clear error', async (_label, body, code) => {
    const reply = await postGraphQL(app.running.url, body());
    expect(reply.status).toBeLessThan(500);
    const { errors, data } = JSON.parse(reply.text);
    expect(data ?? null).toBeNull();
    expect(errors[0].extensions.code).toBe(code);
    expect(errors[0].message).toMatch(/trusted document/);
  });

  it('runs trusted documents over graphql-ws too, and nothing else', async () => {
    const client = createClient({ url: app.running.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    try {
      const run = (payload: { query: string; extensions?: Record<string, unknown>; variables?: Record<string, unknown> }) =>
        new Promise<unknown>((resolve) => {
          const results: unknown[] = [];
          client.subscribe(payload, { next: (value) => results.push(value), error: (error) => resolve({ error }), complete: () => resolve(results) });
        });
      const trusted = (await run({ query: '', variables: { first: 1 }, extensions: { persistedQuery: { version: 1, sha256Hash: hashOf('Products') } } })) as { data: { products: { totalCount: number } } }[];
      expect(trusted[0]!.data.products.totalCount).toBe(20);
      const trustedText = manifest[hashOf('Me')]!;
      expect(documentHash(trustedText)).toBe(hashOf('Me'));
      expect(await run({ query: trustedText })).toEqual([{ data: { me: null } }]);
      const refused = (await run({ query: '{ customers { totalCount } }' })) as { error: { extensions: { code: string } }[] };
      expect(refused.error[0]!.extensions.code).toBe('PERSISTED_QUERY_ONLY');
      const unknown = (await run({ query: '', extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } })) as { error: { extensions: { code: string } }[] };
      expect(unknown.error[0]!.extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    } finally {
      await client.dispose();
    }
  });
});
