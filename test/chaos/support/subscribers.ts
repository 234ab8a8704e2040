import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { eventually } from '../../support/eventually.ts';
import type { Cluster, Instance } from './cluster.ts';
import type { ResumeHint } from '../../../src/graphql/ws-lifecycle.ts';
import { uuidOf } from './writers.ts';

// The chaos run's clients: each follows one stream (one order, or all the orders its viewer may
// see) over graphql-ws or SSE, and whenever its connection ends (the harness cut it, its instance
// died, the server closed it with a documented code) opens a new one to whichever instance the
// "load balancer" picks, resuming where it was, as the README tells client authors to:
// - graphql-ws, all orders: `orderStatusChanged(after: <cursor of the last event received>)`;
// - graphql-ws, one order: `orderStatusChanged(orderId, afterVersion: <last version received>)`;
// - SSE (either stream): the same request again with `Last-Event-ID: <id: of the last event>`,
//   as EventSource and fetch-based SSE clients do.
// Every event is recorded as received (no dedupe here): the verdict applies the documented dedupe.

/** graphql-ws and the server's SSE. */
export type Transport = 'ws' | 'sse';

/** What one client follows: one order (UUID and global id), or every order its viewer may see. */
export type Scope = { readonly kind: 'order'; readonly orderId: string; readonly globalId: string } | { readonly kind: 'all'; readonly viewer: 'admin' | { readonly customerId: string } };

/** One event as a client received it. */
export interface Delivery {
  /** UUID of the order. */
  readonly orderId: string;
  readonly version: number;
  /** The event's cursor (`cursor` field, `extensions.cursor`, or the SSE `id:`), if it had one. */
  readonly cursor: string | undefined;
  /** Epoch ms. */
  readonly receivedAt: number;
  /** Index of the connection it came on, in {@link SubscriberRecord.connections}. */
  readonly connection: number;
}

/** How a connection ended, as the client saw it. */
export interface ConnectionEnd {
  /** closed: the socket or stream ended; failed: it never opened; completed: the server ended the subscription; error: the server refused or failed the operation. */
  readonly kind: 'closed' | 'failed' | 'completed' | 'error';
  /** WebSocket close code (graphql-ws), or HTTP status of a refused SSE request. */
  readonly code?: number;
  readonly reason?: string;
  readonly detail?: string;
}

/** One connection of a client, from the moment it was started. */
export interface ConnectionRecord {
  readonly instance: number;
  /** The instance's process generation it was made to (a restart makes a new one). */
  readonly generation: number;
  /** Epoch ms at which the client started opening it (after any reconnect delay). */
  readonly startedAt: number;
  /** Epoch ms at which it was usable: graphql-ws connection_ack, SSE response headers. */
  openedAt?: number;
  endedAt?: number;
  end?: ConnectionEnd;
  /** Set by the harness before it ends the connection itself. */
  cause?: 'harness-close' | 'harness-stop';
  /** The resume point it was opened with (cursor or version; none for the first connection of a live-only stream). */
  readonly resumedFrom: string;
}

/** Everything one client saw, for the verdict. */
export interface SubscriberRecord {
  readonly id: number;
  readonly transport: Transport;
  readonly scope: Scope;
  readonly deliveries: Delivery[];
  readonly connections: ConnectionRecord[];
  /** GraphQL errors inside events, and events the client could not read. */
  readonly anomalies: string[];
}

const ALL_ORDERS = 'subscription AllOrders($after: String) { orderStatusChanged(after: $after) { cursor version to order { id } } }';
const ONE_ORDER = 'subscription OneOrder($orderId: ID!, $afterVersion: Int) { orderStatusChanged(orderId: $orderId, afterVersion: $afterVersion) { cursor version to } }';

interface EventPayload {
  data?: { orderStatusChanged?: { cursor?: string | null; version: number; order?: { id: string } } | null } | null;
  errors?: unknown[];
  extensions?: { cursor?: string };
}

/**
 * The ResumeHint a server put in a close reason (graphql-ws 1012 on restart, 4008 for a slow
 * consumer; src/graphql/ws-lifecycle.ts): JSON `{ cursor?, version?, reconnectInMs? }`; undefined
 * when the reason is not one.
 */
export function parseResumeHint(reason: string | undefined): ResumeHint | undefined {
  if (!reason?.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(reason) as Record<string, unknown>;
    return {
      ...(typeof parsed.cursor === 'string' ? { cursor: parsed.cursor } : {}),
      ...(typeof parsed.version === 'number' ? { version: parsed.version } : {}),
      ...(typeof parsed.reconnectInMs === 'number' ? { reconnectInMs: parsed.reconnectInMs } : {}),
    };
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One resuming client: `start()` runs its connect–receive–reconnect loop until `stop()`; `forceClose()` cuts the current connection. */
export class Subscriber implements SubscriberRecord {
  readonly deliveries: Delivery[] = [];
  readonly connections: ConnectionRecord[] = [];
  readonly anomalies: string[] = [];
  #lastCursor: string | undefined;
  #lastVersion = 0;
  #close: (() => void) | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;

  readonly id: number;
  readonly transport: Transport;
  readonly scope: Scope;
  readonly token: string;
  /** For an all-orders stream: the cursor its first connection starts after. */
  readonly startAfter: string | undefined;

  constructor(id: number, transport: Transport, scope: Scope, token: string, startAfter: string | undefined) {
    this.id = id;
    this.transport = transport;
    this.scope = scope;
    this.token = token;
    this.startAfter = startAfter;
  }

  /** Starts the connect–receive–reconnect loop (once). */
  start(cluster: Cluster): void {
    this.#running ??= this.#loop(cluster);
  }

  /** Whether the current connection is open (acknowledged / headers received) and not yet ended. */
  get open(): boolean {
    const last = this.connections.at(-1);
    return last?.openedAt !== undefined && last.endedAt === undefined;
  }

  /** Cuts the current connection as a network failure would (socket terminated, stream aborted). */
  forceClose(): void {
    const last = this.connections.at(-1);
    if (!last || last.endedAt !== undefined || !this.#close) return;
    last.cause = 'harness-close';
    this.#close();
  }

  /** Ends the loop and the current connection; resolves once the loop has returned. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const last = this.connections.at(-1);
    if (last && last.endedAt === undefined) last.cause = 'harness-stop';
    this.#close?.();
    await this.#running;
  }

  async #loop(cluster: Cluster): Promise<void> {
    while (!this.#stopped) {
      let instance: Instance;
      try {
        // While every instance is down (never in the schedule, but a restart may lag), wait for one to be routable again.
        instance = await eventually(
          () => {
            try {
              return cluster.pick();
            } catch {
              return false;
            }
          },
          { timeoutMs: 60_000, intervalMs: 50, what: 'a routable instance' },
        );
      } catch {
        continue;
      }
      const connection: ConnectionRecord = { instance: instance.index, generation: instance.generation, startedAt: Date.now(), resumedFrom: this.#resumePoint() };
      this.connections.push(connection);
      const end = await (this.transport === 'ws' ? this.#ws(instance, connection) : this.#sse(instance, connection));
      this.#close = undefined;
      connection.endedAt = Date.now();
      connection.end = end;
      if (this.#stopped) return;
      const hint = parseResumeHint(end.reason);
      if (hint) this.#resumeFrom(hint);
      // The client's reconnect policy, not a wait for something: the delay a server asked for in
      // its close reason, else a short jittered pause (longer after a connection that never opened).
      await sleep(hint?.reconnectInMs ?? (connection.openedAt !== undefined ? Math.random() * 300 : 100 + Math.random() * 300));
    }
  }

  /**
   * A close's resume hint names the last cursor (and version) written to the socket; every message
   * before the close frame has arrived, so it must be the last one received: resume from it, and
   * record a disagreement (it would mean a lost or phantom message).
   */
  #resumeFrom(hint: ResumeHint): void {
    if (hint.cursor !== undefined && hint.cursor !== this.#lastCursor) {
      this.anomalies.push(`close reason cursor ${hint.cursor} is not the last one received (${this.#lastCursor ?? 'none'})`);
      this.#lastCursor = hint.cursor;
    }
    if (this.scope.kind === 'order' && hint.version !== undefined && hint.version !== this.#lastVersion) {
      this.anomalies.push(`close reason version ${hint.version} is not the last one received (${this.#lastVersion})`);
    }
  }

  #resumePoint(): string {
    if (this.scope.kind === 'order') return this.transport === 'ws' ? `afterVersion ${this.#lastVersion}` : `Last-Event-ID ${this.#lastCursor ?? '(none)'}`;
    return `${this.transport === 'ws' ? 'after' : 'Last-Event-ID'} ${this.#lastCursor ?? this.startAfter ?? '(none)'}`;
  }

  #variables(forSse: boolean): Record<string, unknown> {
    if (this.scope.kind === 'order') return { orderId: this.scope.globalId, afterVersion: forSse ? 0 : this.#lastVersion };
    const after = forSse ? this.startAfter : (this.#lastCursor ?? this.startAfter);
    return after === undefined ? {} : { after };
  }

  #receive(payload: EventPayload, connection: number, sseId?: string): void {
    const change = payload.data?.orderStatusChanged;
    if (payload.errors?.length || !change) {
      this.anomalies.push(`event with errors or no data: ${JSON.stringify(payload).slice(0, 300)}`);
      return;
    }
    const orderId = this.scope.kind === 'order' ? this.scope.orderId : change.order ? uuidOf(change.order.id) : '?';
    const cursor = change.cursor ?? payload.extensions?.cursor;
    if (this.transport === 'sse' && sseId !== cursor) this.anomalies.push(`SSE event id ${sseId ?? '(none)'} is not its cursor ${cursor ?? '(none)'}`);
    this.deliveries.push({ orderId, version: change.version, cursor, receivedAt: Date.now(), connection });
    // An SSE client resumes from the last `id:` it saw (Last-Event-ID), as EventSource does.
    const resumeCursor = this.transport === 'sse' ? sseId : cursor;
    if (resumeCursor !== undefined) this.#lastCursor = resumeCursor;
    // The documented dedupe for one order: a version not newer than the last one is a repeat.
    if (change.version > this.#lastVersion) this.#lastVersion = change.version;
  }

  #ws(instance: Instance, connection: ConnectionRecord): Promise<ConnectionEnd> {
    const index = this.connections.length - 1;
    return new Promise((resolve) => {
      let socket: WebSocket | undefined;
      let closed: { code: number; reason: string } | undefined;
      let settled = false;
      const client = createClient({
        url: instance.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        lazy: true,
        retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${this.token}` },
        on: {
          connected: (s) => {
            socket = s as WebSocket;
            connection.openedAt = Date.now();
          },
          closed: (event) => {
            const { code, reason } = event as { code: number; reason: string };
            closed = { code, reason: String(reason ?? '') };
          },
        },
      });
      const finish = (end: ConnectionEnd) => {
        if (settled) return;
        settled = true;
        void client.dispose();
        resolve(end);
      };
      this.#close = () => {
        // Before the socket is up there is nothing to cut: give the attempt up.
        if (socket) socket.terminate();
        else finish({ kind: 'closed', detail: 'cut before the socket opened' });
      };
      const query = this.scope.kind === 'order' ? ONE_ORDER : ALL_ORDERS;
      client.subscribe<EventPayload['data']>(
        { query, variables: this.#variables(false) },
        {
          next: (value) => this.#receive(value as EventPayload, index),
          error: (error: unknown) => {
            if (Array.isArray(error)) finish({ kind: 'error', detail: JSON.stringify(error).slice(0, 500) });
            else if (closed || (error as { code?: unknown }).code !== undefined) {
              const code = closed?.code ?? (error as { code: number }).code;
              finish({ kind: connection.openedAt === undefined ? 'failed' : 'closed', code, reason: closed?.reason ?? String((error as { reason?: unknown }).reason ?? '') });
            } else finish({ kind: 'failed', detail: String((error as Error)?.message ?? error) });
          },
          complete: () => finish(closed ? { kind: 'closed', code: closed.code, reason: closed.reason } : { kind: 'completed' }),
        },
      );
    });
  }

  async #sse(instance: Instance, connection: ConnectionRecord): Promise<ConnectionEnd> {
    const index = this.connections.length - 1;
    const controller = new AbortController();
    this.#close = () => controller.abort();
    const query = this.scope.kind === 'order' ? ONE_ORDER : ALL_ORDERS;
    let response: Response;
    try {
      response = await fetch(instance.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          authorization: `Bearer ${this.token}`,
          ...(this.#lastCursor ? { 'last-event-id': this.#lastCursor } : {}),
        },
        body: JSON.stringify({ query, variables: this.#variables(true) }),
        signal: controller.signal,
      });
    } catch (error) {
      return { kind: 'failed', detail: String((error as Error).message ?? error) };
    }
    if (response.status !== 200 || !response.headers.get('content-type')?.includes('text/event-stream')) {
      const text = await response.text().catch(() => '');
      return { kind: 'error', code: response.status, detail: text.slice(0, 500) };
    }
    connection.openedAt = Date.now();
    return this.#readEvents(response, index);
  }

  async #readEvents(response: Response, index: number): Promise<ConnectionEnd> {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return { kind: 'closed', detail: 'stream ended without a complete event' };
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = parseSseBlock(block);
          if (fields.event === 'complete') return { kind: 'completed', detail: fields.data };
          if (!fields.data) continue;
          if (fields.event !== undefined && fields.event !== 'next') {
            this.anomalies.push(`SSE event '${fields.event}': ${fields.data.slice(0, 300)}`);
            continue;
          }
          this.#receive(JSON.parse(fields.data) as EventPayload, index, fields.id);
        }
      }
    } catch (error) {
      return { kind: 'closed', detail: String((error as Error).message ?? error) };
    } finally {
      void reader.cancel().catch(() => {});
    }
  }
}

/** The fields of one SSE event block (comment lines, such as keep-alive pings, ignored). */
export function parseSseBlock(block: string): { event?: string; data?: string; id?: string } {
  const fields: { event?: string; data?: string; id?: string } = {};
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'data') data.push(value);
    else if (name === 'event') fields.event = value;
    else if (name === 'id') fields.id = value;
  }
  if (data.length) fields.data = data.join('\n');
  return fields;
}
