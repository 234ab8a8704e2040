import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { parse, print, separateOperations } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHIQL_DEFAULT_QUERY, negotiateEncoding } from '../../src/graphql/graphiql.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/** The bound for the GraphiQL page on the wire (~9 MB uncompressed: the UI, Monaco and its workers inline). */
const MAX_PAGE_BYTES_ON_WIRE = 3_000_000;
/** What Chromium sends. */
const BROWSER_ACCEPT_ENCODING = 'gzip, deflate, br, zstd';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.stop());

/** GETs the page as a browser does, counting the bytes as they come off the socket (no decoding). */
function getPage(headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(app.running.url, { headers: { accept: 'text/html,application/xhtml+xml', ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('the GraphiQL page', () => {
  it(`is served with brotli to a browser, under ${MAX_PAGE_BYTES_ON_WIRE} bytes, and decodes to the page`, async () => {
    const plain = await getPage({});
    const page = await getPage({ 'accept-encoding': BROWSER_ACCEPT_ENCODING });
    expect(page.status).toBe(200);
    expect(page.headers['content-encoding']).toBe('br');
    expect(page.headers['vary']).toMatch(/accept-encoding/i);
    console.info(`GraphiQL page: ${plain.body.length} bytes uncompressed, ${page.body.length} bytes with brotli`);
    expect(page.body.length).toBeLessThan(MAX_PAGE_BYTES_ON_WIRE);
    expect(brotliDecompressSync(page.body).equals(plain.body)).toBe(true);
    expect(plain.body.toString('utf8')).toContain('<title>Ordergraph</title>');
  });

  it('is served with gzip to a client that accepts only gzip', async () => {
    const page = await getPage({ 'accept-encoding': 'gzip' });
    expect(page.headers['content-encoding']).toBe('gzip');
    expect(page.body.length).toBeLessThan(MAX_PAGE_BYTES_ON_WIRE);
    expect(gunzipSync(page.body).toString('utf8')).toContain('<title>Ordergraph</title>');
  });

  it('is served uncompressed to a client that accepts no encoding', async () => {
    const page = await getPage({});
    expect(page.status).toBe(200);
    expect(page.headers['content-encoding']).toBeUndefined();
    expect(page.body.toString('utf8')).toContain('<title>Ordergraph</title>');
  });

  it('is revalidated: a reload with its ETag gets 304 and no body', async () => {
    const first = await getPage({ 'accept-encoding': BROWSER_ACCEPT_ENCODING });
    expect(first.headers['cache-control']).toBe('no-cache');
    const etag = String(first.headers['etag']);
    const again = await getPage({ 'accept-encoding': BROWSER_ACCEPT_ENCODING, 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers['etag']).toBe(etag);
    // Another encoding is another representation, with its own validator.
    expect((await getPage({ 'accept-encoding': 'gzip', 'if-none-match': etag })).status).toBe(200);
  });

  it("opens with the README's SignIn and Products, word for word", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const readmeOperations = new Map<string, string>();
    for (const [, block] of readme.matchAll(/```graphql\n([\s\S]*?)```/g)) {
      for (const [name, document] of Object.entries(separateOperations(parse(block!.replace(/"(UHJvZHVjdDo|T3JkZXI6)…"/g, '"$1"'))))) readmeOperations.set(name, print(document));
    }
    const shown = Object.entries(separateOperations(parse(GRAPHIQL_DEFAULT_QUERY)));
    expect(shown.map(([name]) => name)).toEqual(['SignIn', 'Products']);
    for (const [name, document] of shown) expect(print(document), name).toBe(readmeOperations.get(name));
  });
});

describe('Accept-Encoding negotiation (RFC 9110 §12.5.3)', () => {
  it.each([
    [null, undefined],
    ['', undefined],
    ['identity', undefined],
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip', 'gzip'],
    ['GZIP', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['br;q=0.5, gzip;q=0.8', 'gzip'],
    ['br;q=0.8, gzip;q=0.8', 'br'],
    ['*', 'br'],
    ['*;q=0', undefined],
    ['gzip;q=0, *', 'br'],
    ['deflate, zstd', undefined],
  ] as const)('%j → %s', (header, expected) => {
    expect(negotiateEncoding(header)).toBe(expected);
  });
});
