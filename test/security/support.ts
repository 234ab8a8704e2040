import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';

/** One HTTP reply as a hostile-client test sees it. */
export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/**
 * Sends one request to the app (loopback) and reads the whole reply. A connection reset before
 * any reply is retried once: it is the client reusing a keep-alive connection the server closed
 * as idle (5 s) at the same moment, not an answer; a server that really dropped the request
 * fails the retry too.
 */
export async function send(url: string, init: RequestInit): Promise<Reply> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    const code = ((error as { cause?: { code?: string } }).cause ?? {}).code;
    if (code !== 'ECONNRESET' && code !== 'UND_ERR_SOCKET') throw error;
    response = await fetch(url, init);
  }
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** POSTs a GraphQL body as JSON (or raw bytes/text when `body` is a string or buffer). */
export function postGraphQL(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const raw = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  return send(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw as BodyInit });
}

/** What must never reach a client: stack frames, SQL or driver text, schema suggestions. */
export const LEAKS: readonly (readonly [string, RegExp])[] = [
  ['stack trace', /\n\s+at |\bat [\w.<>]+ \(|[\w/.-]+\.(?:ts|js|cjs|mjs):\d+:\d+|"stack"\s*:/],
  ['SQL', /\b(?:select|insert|update|delete)\b[^"]{0,200}\b(?:from|into|set|where)\b|syntax error at or near|relation "|violates .* constraint|\bpg_|duplicate key value/i],
  ['suggestion', /Did you mean/],
  ['internal error text', /TypeError|ReferenceError|RangeError|Cannot read propert|undefined is not|MikroORM|ECONNREFUSED/],
];

/**
 * Checks one reply to a hostile request: no 5xx, a JSON GraphQL response whose `errors` (when
 * present) are spec-shaped (a message string, optional locations/path, extensions an object), and
 * nothing of {@link LEAKS}. `expectErrors`: the reply must carry at least one error.
 * @returns the problems found (empty when the reply is fine).
 */
export function problemsOf(reply: Reply, options: { expectErrors?: boolean } = {}): string[] {
  const problems: string[] = [];
  if (reply.status >= 500) problems.push(`status ${reply.status}`);
  for (const [name, pattern] of LEAKS) if (pattern.test(reply.text)) problems.push(`leaks ${name}: ${reply.text.slice(0, 300)}`);
  let body: unknown;
  try {
    body = JSON.parse(reply.text);
  } catch {
    problems.push(`not JSON (status ${reply.status}): ${reply.text.slice(0, 200)}`);
    return problems;
  }
  problems.push(...shapeProblems(body, options.expectErrors ?? false));
  return problems;
}

/** Spec shape of a GraphQL response (GraphQL spec §7.1). */
export function shapeProblems(body: unknown, expectErrors: boolean): string[] {
  const problems: string[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [`not a response object: ${JSON.stringify(body)?.slice(0, 200)}`];
  const { errors, data, ...rest } = body as { errors?: unknown; data?: unknown };
  for (const key of Object.keys(rest)) if (key !== 'extensions') problems.push(`unexpected top-level key ${key}`);
  if (errors === undefined) {
    if (expectErrors) problems.push('no errors');
    if (data === undefined) problems.push('neither data nor errors');
    return problems;
  }
  if (!Array.isArray(errors) || errors.length === 0) return [...problems, 'errors is not a non-empty list'];
  for (const error of errors as unknown[]) {
    if (typeof error !== 'object' || error === null) {
      problems.push('an error is not an object');
      continue;
    }
    const { message, locations, path, extensions } = error as Record<string, unknown>;
    if (typeof message !== 'string' || message.length === 0) problems.push('an error without a message');
    if (locations !== undefined && !(Array.isArray(locations) && locations.every((l) => Number.isInteger(l?.line) && Number.isInteger(l?.column)))) {
      problems.push('malformed locations');
    }
    if (path !== undefined && !(Array.isArray(path) && path.every((p) => typeof p === 'string' || Number.isInteger(p)))) problems.push('malformed path');
    if (extensions !== undefined && (typeof extensions !== 'object' || extensions === null || Array.isArray(extensions))) problems.push('malformed extensions');
  }
  return problems;
}

/** Heap in use after a full collection, in bytes (`--expose-gc` switched on at run time). */
export function settledHeap(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
