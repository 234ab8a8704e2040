import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { DEMO_ACCOUNTS } from '../../../src/demo/seed.ts';
import { eventually as untilPasses } from '../../support/eventually.ts';
import { terminate } from '../../support/process.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** One JSON log line of a gateway (pino). */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** A gateway started as `npm start` does (`node --import …/register.ts src/main.ts`), in its own process. */
export interface Gateway {
  /** e.g. http://127.0.0.1:41234/graphql */
  readonly url: string;
  /** e.g. http://127.0.0.1:41234 */
  readonly origin: string;
  readonly child: ChildProcess;
  /** Every JSON log line so far (stdout). */
  readonly lines: LogLine[];
  /** Everything written so far, raw (stdout and stderr), for secret checks and failure messages. */
  output(): string;
  /** Resolves with the exit code and signal once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits (bounded) for a log line matching `predicate`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM, then SIGKILL after `timeoutMs` if it is still running; resolves when it has exited. */
  stop(timeoutMs?: number): Promise<void>;
}

/** A fresh ES256 signing key, shared by every instance of a test so tokens work across them. */
export function generateJwtKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
}

/**
 * Starts a gateway process on a free loopback port (PORT=0; the URL is read from its "serving" log
 * line, or with an explicit PORT once /health answers) with test defaults, the given environment on
 * top. Fails after `startTimeoutMs`.
 */
export async function startGateway(env: Record<string, string>, options: { startTimeoutMs?: number } = {}): Promise<Gateway> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ordergraph-ops-'));
  const child = spawn(process.execPath, ['--import', './src/platform/telemetry/register.ts', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      GRAPHIQL: 'false',
      DATA_DIR: dataDir,
      SEED_DEMO_DATA: 'true',
      PAYMENT_SIMULATED_LATENCY_MS: '5',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let raw = '';
  let pending = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    raw += chunk;
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) {
      if (!part.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(part) as LogLine);
      } catch {
        // not a log line (e.g. the GraphiQL banner)
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    raw += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const wake of waiters) wake();
      resolve({ code, signal });
    });
  });
  let hasExited = false;
  void exited.then(async () => {
    hasExited = true;
    await rm(dataDir, { recursive: true, force: true });
  });

  const waitForLog: Gateway['waitForLog'] = (predicate, timeoutMs = 15_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = lines.find(predicate);
        if (found) {
          done();
          resolve(found);
        } else if (hasExited || child.exitCode !== null) {
          done();
          reject(new Error(`gateway exited before the expected log line:\n${raw.slice(-4_000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for a log line:\n${raw.slice(-4_000)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  let url: string;
  if (env.PORT && env.PORT !== '0') {
    // A fixed port (logs may be quieter than info): wait until it serves.
    url = `http://127.0.0.1:${env.PORT}/graphql`;
    await eventually(async () => (await fetch(new URL('/health', url))).ok, options.startTimeoutMs ?? 60_000, 100, `a gateway on port ${env.PORT}`).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`${String(error)}\n${raw.slice(-4_000)}`);
    });
  } else {
    const serving = await waitForLog((line) => line.msg === 'Ordergraph is serving', options.startTimeoutMs ?? 60_000).catch(async (error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    url = String(serving.url);
  }
  return {
    url,
    origin: new URL(url).origin,
    child,
    lines,
    output: () => raw,
    exited,
    waitForLog,
    stop: (timeoutMs = 30_000) => terminate(child, exited, timeoutMs),
  };
}

/** A GraphQL response body. */
export interface GraphQLBody<T = Record<string, any>> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** POSTs a GraphQL operation; returns the response and its parsed body. */
export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: { token?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<{ response: Response; body: GraphQLBody<T> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
    body: JSON.stringify({ query, variables }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { response, body: (await response.json()) as GraphQLBody<T> };
}

export const SIGN_IN = 'mutation SignIn($input: SignInInput!) { signIn(input: $input) { __typename ... on SignInSuccess { auth { accessToken } } } }';
export const PRODUCTS = 'query Products($first: Int) { products(first: $first, filter: { inStock: true }) { edges { node { id sku price { amount } } } } }';
export const PLACE_ORDER =
  'mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename ... on Error { code } ... on PlaceOrderSuccess { order { id status version } } ... on PaymentDeclinedError { order { id status version } } } }';
export const UPDATE_STATUS =
  'mutation UpdateOrderStatus($input: UpdateOrderStatusInput!) { updateOrderStatus(input: $input) { __typename ... on Error { code message } ... on UpdateOrderStatusSuccess { order { id status version } } } }';
export const FOLLOW_ORDER = 'subscription Follow($orderId: ID, $afterVersion: Int) { orderStatusChanged(orderId: $orderId, afterVersion: $afterVersion) { version from to order { id } } }';

/** Signs a demo account in ('admin', 'basic', 'premium', 'enterprise') and returns its access token. */
export async function demoToken(url: string, who: 'admin' | 'basic' | 'premium' | 'enterprise'): Promise<string> {
  const account = DEMO_ACCOUNTS.find((a) => a.email.startsWith(`${who}@`))!;
  const { body } = await gql<{ signIn: { auth?: { accessToken: string } } }>(url, SIGN_IN, { input: { email: account.email, password: account.password } });
  const token = body.data?.signIn.auth?.accessToken;
  if (!token) throw new Error(`sign-in of ${who} failed: ${JSON.stringify(body)}`);
  return token;
}

/** Global ids of in-stock demo products priced at most `maxPrice`, cheapest first is not guaranteed. */
export async function cheapProducts(url: string, maxPrice = 100): Promise<string[]> {
  const { body } = await gql<{ products: { edges: { node: { id: string; price: { amount: string } } }[] } }>(url, PRODUCTS, { first: 50 });
  return body.data!.products.edges.filter((e) => Number(e.node.price.amount) <= maxPrice).map((e) => e.node.id);
}

/** A graphql-ws client on `url`, signed in with `token`, that does not retry (tests watch closes). */
export function wsClient(url: string, token: string, options: { onClosed?: (code: number | undefined) => void } = {}): Client {
  return createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    // Closes are expected here (shutdown, restarts) and reported through onClosed.
    onNonLazyError: () => {},
    connectionParams: { authorization: `Bearer ${token}` },
    on: { closed: (event) => options.onClosed?.((event as { code?: number }).code) },
  });
}

/**
 * Polls `probe` every `everyMs` until it returns true (a throw counts as false), failing after
 * `timeoutMs` with a message naming `what`. The boolean form of test/support/eventually.ts.
 */
export async function eventually(probe: () => Promise<boolean> | boolean, timeoutMs = 15_000, everyMs = 100, what = 'condition'): Promise<void> {
  await untilPasses(async () => Boolean(await probe()), { timeoutMs, intervalMs: everyMs, what }).catch(() => {
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  });
}

/** One span as the fake collector saw it (OTLP/HTTP JSON). */
export interface CollectedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: number;
  readonly scope: string;
  readonly links: readonly { traceId: string; spanId: string }[];
  readonly attributes: Record<string, unknown>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly status: number;
}

/** A stand-in OpenTelemetry collector on loopback: accepts OTLP/HTTP JSON traces and keeps the spans. */
export interface FakeCollector {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  readonly spans: CollectedSpan[];
  close(): Promise<void>;
}

const attributeValue = (value: Record<string, unknown> | undefined): unknown => {
  if (!value) return undefined;
  if ('stringValue' in value) return value.stringValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('boolValue' in value) return value.boolValue;
  if ('doubleValue' in value) return value.doubleValue;
  if ('arrayValue' in value) return ((value.arrayValue as { values?: Record<string, unknown>[] }).values ?? []).map(attributeValue);
  return undefined;
};

/** Starts a {@link FakeCollector}. The gateway must export JSON (the OTLP/HTTP exporter's default here). */
export async function startFakeCollector(): Promise<FakeCollector> {
  const spans: CollectedSpan[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      try {
        const payload = JSON.parse(body) as { resourceSpans?: { scopeSpans?: { scope?: { name?: string }; spans?: Record<string, any>[] }[] }[] };
        for (const resource of payload.resourceSpans ?? []) {
          for (const scoped of resource.scopeSpans ?? []) {
            for (const span of scoped.spans ?? []) {
              spans.push({
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId || undefined,
                name: span.name,
                kind: span.kind,
                scope: scoped.scope?.name ?? '',
                links: (span.links ?? []).map((l: { traceId: string; spanId: string }) => ({ traceId: l.traceId, spanId: l.spanId })),
                attributes: Object.fromEntries((span.attributes ?? []).map((a: { key: string; value: Record<string, unknown> }) => [a.key, attributeValue(a.value)])),
                status: span.status?.code ?? 0,
              });
            }
          }
        }
      } catch {
        // not JSON: ignored, the test then finds no spans and says so
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
