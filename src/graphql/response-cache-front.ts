import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../platform/logger.ts';
import { anonymous, viewerCustomerId, type Viewer } from '../platform/op-context.ts';
import type { BudgetCharge } from './security/cost-budget.ts';

/** A GraphQL request's parameters as a client posts them (GraphQL over HTTP, JSON body). */
export interface PostedParams {
  readonly query: string;
  readonly variables: Record<string, unknown> | undefined;
  readonly operationName: string | undefined;
}

/** A stored answer the front may serve: its data, and the cost points its operation was charged (undefined: none). */
export interface CachedAnswer {
  readonly data: unknown;
  readonly points: number | undefined;
}

/** What the hit path needs from the rest of the server (wired in src/app/http.ts). */
export interface CacheFrontOptions {
  /** The GraphQL endpoint (`/graphql`). */
  readonly path: string;
  /** MAX_BODY_BYTES: larger bodies go to yoga, which refuses them with 413. */
  readonly maxBodyBytes: number;
  /** Verifies a bearer token as the context factory does (the same cached verifier). */
  readonly verifyToken: (token: string) => Promise<{ readonly viewer: Viewer } | undefined>;
  /** The response cache's entry for these parameters and viewer (same key as the execute-phase lookup); undefined on a miss. */
  readonly lookup: (params: PostedParams, viewer: Viewer) => CachedAnswer | undefined | Promise<CachedAnswer | undefined>;
  /** Charges a hit to the viewer's cost budget (undefined when rate limits are off or the viewer has none). */
  readonly charge: ((viewer: Viewer, address: string, points: number) => Promise<BudgetCharge | undefined>) | undefined;
  /** The client's address, as the rate limits see it (TRUST_PROXY_HOPS). */
  readonly clientAddress: (request: IncomingMessage) => string;
  /** The request id the response carries (`x-request-id`), as yoga's requests get theirs. */
  readonly requestId: (request: IncomingMessage) => string;
  readonly logger: Logger;
  /** Counts a hit served here (a metric). */
  readonly onHit?: () => void;
}

const JSON_BODY = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;
const GRAPHQL_RESPONSE = 'application/graphql-response+json';

/**
 * The response cache's hit path, in front of yoga (docs/adr/0015): a plain JSON POST to the
 * GraphQL endpoint whose entry is in the cache, for a viewer whose bearer token verifies and whose
 * cost budget can pay for it, is answered here, without yoga's request pipeline (about 0.2 ms of
 * CPU a request on the machines of bench/RESULTS.md), with the body the execute-phase hit would
 * have (`data`, `extensions.responseCache.hit`, `extensions.cost`). Everything else goes on to
 * yoga untouched, the body already read handed over as the request's parsed body: a miss, an
 * invalid or expired token (yoga answers 401), a refused budget (yoga answers 429), CORS requests
 * (`Origin`), SSE and multipart, other media types, oversized or chunked bodies, trusted-document
 * ids. Entries exist only for documents yoga parsed, validated, measured and ran for the same
 * text, variables and audience, so a hit skips no check that could fail.
 */
export function withCacheFront(next: RequestListener, options: CacheFrontOptions): RequestListener {
  return (request, response) => {
    const length = eligibleLength(request, options);
    if (length === undefined) return next(request, response);
    const chunks: Buffer[] = [];
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    });
    request.once('end', () => {
      const body = Buffer.concat(chunks, received);
      void serveHit(request, response, body, options).then(
        (served) => {
          if (!served) forward(next, request, response, body);
        },
        (error: unknown) => {
          options.logger.warn({ err: error }, 'response cache front failed; the request goes to yoga');
          if (!response.headersSent) forward(next, request, response, body);
        },
      );
    });
  };
}

/** The declared body length when the request may be a cache hit; undefined when it must go straight to yoga. */
function eligibleLength(request: IncomingMessage, options: CacheFrontOptions): number | undefined {
  if (request.method !== 'POST' || request.url !== options.path) return undefined;
  const headers = request.headers;
  if (!JSON_BODY.test(headers['content-type'] ?? '') || headers.origin !== undefined || headers['transfer-encoding'] !== undefined) return undefined;
  const accept = headers.accept ?? '';
  if (accept.includes('text/event-stream') || accept.includes('multipart/mixed')) return undefined;
  const length = Number(headers['content-length']);
  return Number.isInteger(length) && length > 0 && length <= options.maxBodyBytes ? length : undefined;
}

/** Hands the request to yoga with the body already read (whatwg-node takes a request's `body` as read). */
function forward(next: RequestListener, request: IncomingMessage, response: ServerResponse, body: Buffer): void {
  (request as IncomingMessage & { body?: Buffer }).body = body;
  next(request, response);
}

/** The parameters of a posted body, or undefined for anything but a plain `{ query, variables?, operationName? }`. */
function paramsOf(body: Buffer): PostedParams | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const { query, variables, operationName, ...rest } = parsed as Record<string, unknown>;
  if (typeof query !== 'string' || Object.keys(rest).length > 0) return undefined;
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined;
  return { query, variables: (variables ?? undefined) as Record<string, unknown> | undefined, operationName: operationName ?? undefined };
}

/** The viewer of a request's Authorization header: anonymous without one; undefined when it does not verify. */
async function viewerOf(header: string | undefined, options: CacheFrontOptions): Promise<Viewer | undefined> {
  if (header === undefined) return anonymous;
  const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header.trim())?.[1];
  return token ? (await options.verifyToken(token))?.viewer : undefined;
}

/** Answers the request from the cache when it can. @returns false when yoga must answer it. */
async function serveHit(request: IncomingMessage, response: ServerResponse, body: Buffer, options: CacheFrontOptions): Promise<boolean> {
  const params = paramsOf(body);
  if (!params) return false;
  const viewer = await viewerOf(request.headers.authorization, options);
  if (!viewer) return false;
  const answer = await options.lookup(params, viewer);
  if (!answer) return false;
  // An answer stored while nothing was charged cannot be charged now: yoga's path measures it.
  if (options.charge && answer.points === undefined) return false;
  const charge = options.charge ? await options.charge(viewer, options.clientAddress(request), answer.points!) : undefined;
  if (charge?.refused) return false;
  const text = JSON.stringify({ data: answer.data, extensions: { responseCache: { hit: true }, ...(charge ? { cost: charge.report } : {}) } });
  const accept = request.headers.accept ?? '';
  const requestId = options.requestId(request);
  response.writeHead(200, {
    'content-type': `${accept.includes(GRAPHQL_RESPONSE) ? GRAPHQL_RESPONSE : 'application/json'}; charset=utf-8`,
    'content-length': Buffer.byteLength(text),
    'x-request-id': requestId,
  });
  response.end(text);
  options.onHit?.();
  // The access-log line yoga's path writes (platform/observability/log-context.ts), marked as a front hit.
  const customerId = viewerCustomerId(viewer);
  options.logger.info(
    { requestId, ...(params.operationName ? { operationName: params.operationName } : {}), ...(customerId ? { customerId } : {}), operationType: 'query', outcome: 'success', responseCache: 'front-hit' },
    'graphql operation',
  );
  return true;
}
