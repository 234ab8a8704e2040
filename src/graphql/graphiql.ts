import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { shouldRenderGraphiQL, type GraphiQLOptions, type Plugin } from 'graphql-yoga';
import { GRAPHIQL_CSRF_HEADER } from './security/csrf.ts';

/**
 * What GraphiQL's editor shows on a first visit: the README's first two operations ("Try it in
 * GraphiQL"), word for word, so that the README's "press Run and choose SignIn" is what the
 * newcomer sees (test/e2e/graphiql-page.test.ts compares them).
 */
export const GRAPHIQL_DEFAULT_QUERY = `# Welcome to Ordergraph. Press Run (▶) and choose SignIn, then put
#   { "Authorization": "Bearer <accessToken>" }
# in the Headers pane below. The README's "Try it in GraphiQL" goes on from there.
mutation SignIn {
  signIn(input: { email: "premium@ordergraph.dev", password: "demo-pass-premium" }) {
    ... on SignInSuccess { auth { accessToken expiresAt customer { id name tier } } }
    ... on Error { code message }
  }
}

query Products {
  products(first: 5, filter: { inStock: true }, orderBy: { field: PRICE, direction: ASC }) {
    totalCount
    edges { cursor node { id sku name price { amount currency } stock } }
    pageInfo { hasNextPage endCursor }
  }
}
`;

/**
 * yoga's GraphiQL, configured for Ordergraph. Subscriptions go over SSE (yoga's default here,
 * GraphQL over SSE's distinct connections mode), so the Headers pane's `Authorization` reaches the
 * server as on any request; in its graphql-ws mode yoga's GraphiQL would send only a fixed
 * `connectionParams`, never the Headers pane. Every request carries {@link GRAPHIQL_CSRF_HEADER}:
 * GraphiQL sends subscriptions as `GET …?query=subscription…` with no content type, which CSRF
 * prevention refuses without such a header (docs/security.md, "CSRF").
 */
export const GRAPHIQL_OPTIONS: GraphiQLOptions = {
  title: 'Ordergraph',
  defaultQuery: GRAPHIQL_DEFAULT_QUERY,
  additionalHeaders: { [GRAPHIQL_CSRF_HEADER]: 'graphiql' },
};

/** Encodings the page is served in, by preference (RFC 9110 §12.5.3 content codings). */
type Coding = 'br' | 'gzip';

/**
 * The content coding to answer an `Accept-Encoding` header with (RFC 9110 §12.5.3): the acceptable
 * one (q > 0, named or through `*`) with the highest weight, brotli on a tie; undefined (identity)
 * when the header is absent or accepts neither.
 */
export function negotiateEncoding(acceptEncoding: string | null): Coding | undefined {
  if (!acceptEncoding) return undefined;
  const weights = new Map<string, number>();
  for (const member of acceptEncoding.toLowerCase().split(',')) {
    const [coding, ...params] = member.split(';').map((part) => part.trim());
    if (!coding) continue;
    const q = params.map((param) => /^q=([01](?:\.\d{0,3})?)$/.exec(param)?.[1]).find((value) => value !== undefined);
    weights.set(coding, q === undefined ? 1 : Number(q));
  }
  const weight = (coding: Coding) => weights.get(coding) ?? weights.get('*') ?? 0;
  const best = (['br', 'gzip'] as const).reduce<Coding | undefined>((chosen, coding) => (weight(coding) > (chosen ? weight(chosen) : 0) ? coding : chosen), undefined);
  return best;
}

const compress: Record<Coding, (html: Buffer) => Promise<Buffer>> = {
  // Quality 5: 9.05 MB → 1.95 MB in ~0.4 s; 11 would save another 0.24 MB for ~12 s (measured on
  // this page, on a busy 2-core machine). Off the event loop (libuv's thread pool), once per process.
  br: (html) =>
    promisify(brotliCompress)(html, {
      params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT, [zlib.BROTLI_PARAM_SIZE_HINT]: html.length },
    }),
  // 9.05 MB → 2.44 MB in ~0.3 s.
  gzip: (html) => promisify(gzip)(html, { level: 6 }),
};

/** The GraphiQL page: yoga's renderer for it, and the plugin that serves it compressed and revalidated. */
export interface GraphiQLPage {
  /** For yoga's `graphiql` option. */
  readonly options: GraphiQLOptions;
  /** For yoga's `renderGraphiQL` option: the page, rendered once (it is the same for every request). */
  readonly render: () => string;
  /**
   * Replaces yoga's GraphiQL response (text/html, ~9 MB: the whole UI, Monaco and its workers
   * inline) with the brotli or gzip encoding the client accepts (`Vary: Accept-Encoding`), each
   * compressed once, and answers a matching `If-None-Match` with 304: the page is revalidated
   * (`Cache-Control: no-cache`), never stale after an upgrade.
   */
  readonly plugin: Plugin;
}

/**
 * Creates the {@link GraphiQLPage}. Compression happens on the first request that accepts each
 * encoding; should it fail, the page is served uncompressed.
 */
export function createGraphiQLPage(options: GraphiQLOptions = GRAPHIQL_OPTIONS): GraphiQLPage {
  let html: string | undefined;
  let body: Buffer | undefined;
  let tag: string | undefined;
  const encoded = new Map<Coding, Promise<Buffer | undefined>>();
  const render = () => (html ??= renderGraphiQL(options));
  const identity = () => (body ??= Buffer.from(render()));
  // A strong validator per representation: the encodings are different byte sequences.
  const etag = (coding: Coding | undefined) => `"${(tag ??= createHash('sha256').update(identity()).digest('base64url').slice(0, 27))}${coding ? `-${coding}` : ''}"`;

  const plugin: Plugin = {
    async onResponse({ request, response, setResponse, fetchAPI }) {
      if (response.status !== 200 || !shouldRenderGraphiQL(request) || !response.headers.get('content-type')?.startsWith('text/html')) return;
      let coding = negotiateEncoding(request.headers.get('accept-encoding'));
      let bytes: Buffer | undefined = identity();
      if (coding) {
        let pending = encoded.get(coding);
        if (!pending) encoded.set(coding, (pending = compress[coding](identity()).catch(() => undefined)));
        bytes = await pending;
        if (!bytes) {
          coding = undefined;
          bytes = identity();
        }
      }
      const headers = new fetchAPI.Headers(response.headers);
      headers.delete('content-length');
      headers.set('content-type', 'text/html; charset=utf-8');
      headers.set('cache-control', 'no-cache');
      headers.set('vary', 'Accept-Encoding');
      headers.set('etag', etag(coding));
      if (coding) headers.set('content-encoding', coding);
      const ifNoneMatch = request.headers.get('if-none-match');
      if (ifNoneMatch && (ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag(coding)))) {
        headers.delete('content-encoding');
        setResponse(new fetchAPI.Response(null, { status: 304, headers }));
        return;
      }
      setResponse(new fetchAPI.Response(bytes as Uint8Array<ArrayBuffer>, { status: 200, headers }));
    },
  };
  return { options, render, plugin };
}
