import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createApp, type AppOptions, type RunningApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { DEMO_ACCOUNTS } from '../../src/demo/seed.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

/** A started Ordergraph on its own fresh database, with the demo data loaded. */
export interface TestApp {
  readonly running: RunningApp;
  readonly db: TestDatabase;
  readonly config: Config;
  /** Sends an operation over real HTTP (or through `yoga.fetch` with `via: 'yoga'`). */
  execute<TData, TVars extends Record<string, unknown>>(
    document: TypedDocumentNode<TData, TVars>,
    variables: TVars,
    options?: { token?: string; via?: 'http' | 'yoga' },
  ): Promise<ExecutionResult<TData>>;
  /** Signs a demo account in and returns its access token. */
  signIn(email: string, password: string): Promise<string>;
  /** Token of a demo account by tier key: 'admin', 'basic', 'premium', 'enterprise'. */
  demoToken(who: 'admin' | 'basic' | 'premium' | 'enterprise'): Promise<string>;
  /** A graphql-ws client on the app's /graphql, authenticated with `token` when given. */
  wsClient(token?: string): Client;
  stop(): Promise<void>;
}

/**
 * Starts the application as `npm start` would, but on a fresh test database, port 0, silent logs,
 * a short simulated payment latency, and the given env overrides.
 */
export async function startTestApp(options: { env?: Record<string, string>; app?: AppOptions } = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'ordergraph-test-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    DB_POOL_MAX: String(db.poolMax),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    SEED_DEMO_DATA: 'true',
    PAYMENT_SIMULATED_LATENCY_MS: '5',
    ...options.env,
  });
  const app = createApp(config, options.app);
  const running = await app.start();
  const clients: Client[] = [];
  const tokens = new Map<string, string>();

  const execute: TestApp['execute'] = async (document, variables, opts = {}) => {
    const init: RequestInit = {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
      body: JSON.stringify({ query: print(document), variables }),
    };
    const response = opts.via === 'yoga' ? await running.yoga.fetch('http://localhost/graphql', init) : await fetch(running.url, init);
    return (await response.json()) as ExecutionResult<never>;
  };

  const signIn = async (email: string, password: string) => {
    const response = await fetch(running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation($input: SignInInput!) { signIn(input: $input) { __typename ... on SignInSuccess { auth { accessToken } } } }',
        variables: { input: { email, password } },
      }),
    });
    const body = (await response.json()) as { data?: { signIn: { auth?: { accessToken: string } } } };
    const token = body.data?.signIn.auth?.accessToken;
    if (!token) throw new Error(`sign-in of ${email} failed: ${JSON.stringify(body)}`);
    return token;
  };

  return {
    running,
    db,
    config,
    execute,
    signIn,
    async demoToken(who) {
      const cached = tokens.get(who);
      if (cached) return cached;
      const account = DEMO_ACCOUNTS.find((a) => a.email.startsWith(`${who}@`))!;
      const token = await signIn(account.email, account.password);
      tokens.set(who, token);
      return token;
    },
    wsClient(token) {
      const client = createClient({
        url: running.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        ...(token ? { connectionParams: { authorization: `Bearer ${token}` } } : {}),
      });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) await client.dispose();
      await app.stop();
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Collects the events of one subscription and lets a test wait for the next ones. */
export interface EventStream<T> {
  readonly events: T[];
  readonly errors: unknown[];
  /** Resolves once `count` events in total have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  /** Resolves when the server completed or failed the subscription. */
  readonly done: Promise<void>;
  unsubscribe(): void;
}

/** Subscribes with a graphql-ws client and buffers what arrives. */
export function collect<TData, TVars extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<TData, TVars>,
  variables: TVars,
): EventStream<ExecutionResult<TData>> {
  const events: ExecutionResult<TData>[] = [];
  const errors: unknown[] = [];
  let notify = () => {};
  let finish = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const unsubscribe = client.subscribe<TData>(
    { query: print(document), variables },
    {
      next: (value) => {
        events.push(value as ExecutionResult<TData>);
        notify();
      },
      error: (error) => {
        errors.push(error);
        notify();
        finish();
      },
      complete: () => {
        notify();
        finish();
      },
    },
  );
  return {
    events,
    errors,
    done,
    unsubscribe,
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${count} events; got ${JSON.stringify(events)} errors ${JSON.stringify(errors)}`)),
          timeoutMs,
        );
        const check = () => {
          if (events.length >= count) {
            clearTimeout(timer);
            resolve(events.slice(0, count));
          } else if (errors.length > 0) {
            clearTimeout(timer);
            reject(new Error(`subscription failed: ${JSON.stringify(errors)}`));
          }
        };
        notify = check;
        check();
      });
    },
  };
}

/** Waits until the graphql-ws client has an acknowledged connection. */
export function connected(client: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    const off = client.on('connected', () => {
      off();
      resolve();
    });
    const offClosed = client.on('closed', (event) => {
      offClosed();
      reject(new Error(`socket closed: ${JSON.stringify((event as { code?: number }).code)}`));
    });
  });
}
