import { AsyncResource } from 'node:async_hooks';
import pg from 'pg';
import type { DoorbellTransport } from '../doorbell.ts';
import type { Logger } from '../logger.ts';

/** Backoff between reconnections, in ms: doubling from 50 ms up to 2 s (as the Redis connections). */
const reconnectDelay = (attempt: number) => Math.min(50 * 2 ** attempt, 2_000);

/**
 * A doorbell over PostgreSQL `LISTEN`/`NOTIFY`, for instances that share a database and no Redis
 * (ADR 0012). One dedicated connection per instance, outside the pool (a listening session must
 * stay open), LISTENs on the channels asked for and sends the rings (`pg_notify`, outside any
 * write transaction: a NOTIFY in the writers' transactions would serialise their commits on the
 * notification queue's lock). A ring carries the sender's id, so an instance ignores its own.
 * Rings to a channel are coalesced: one in flight, at most one more queued behind it.
 * The connection reconnects by itself (capped backoff), LISTENs again, and then rings its listeners
 * once, since rings sent meanwhile were lost. On the embedded PGlite (one session for every
 * connection) it does nothing: there is no other instance to ring.
 */
export class PgNotifyDoorbell implements DoorbellTransport {
  readonly system = 'postgres';
  readonly #url: string;
  readonly #log: Logger;
  readonly #self = crypto.randomUUID();
  readonly #listeners = new Map<string, Set<() => void>>();
  /** Channels with a ring in flight: 'more' when another was asked for meanwhile. */
  readonly #sending = new Map<string, 'one' | 'more'>();
  /**
   * The doorbell's own async context: a ring is sent from it, not from the request that rang
   * (whose trace and statement count it is no part of; coalesced rings belong to no one request).
   */
  readonly #scope = new AsyncResource('ordergraph.doorbell');
  #client: pg.Client | undefined;
  /**
   * The last statement sent on the connection: each waits for the one before, since pg deprecates
   * (and warns on stderr about) a query sent while another is running on the same client.
   */
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  #embedded = false;
  #down = false;
  #attempt = 0;

  /** Starts connecting at once; rings before the connection is up are lost (the readers' timer covers them). */
  constructor(url: string, logger: Logger) {
    this.#url = url;
    this.#log = logger.child({ component: 'doorbell' });
    this.#connect().catch((error: unknown) => this.#retry(error));
  }

  ring(channel: string): void {
    if (this.#embedded) return;
    if (this.#sending.has(channel)) this.#sending.set(channel, 'more');
    else this.#scope.runInAsyncScope(() => this.#send(channel));
  }

  listen(channel: string, onRing: () => void): () => void {
    let set = this.#listeners.get(channel);
    if (!set) {
      this.#listeners.set(channel, (set = new Set()));
      void this.#query(`listen ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
    }
    const listeners = set.add(onRing);
    return () => {
      listeners.delete(onRing);
      if (listeners.size > 0 || this.#listeners.get(channel) !== listeners) return;
      this.#listeners.delete(channel);
      void this.#query(`unlisten ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
    };
  }

  /** Closes the connection for good (shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** Sends `sql` on the connection (`client`, default the current one) once the statement before it is done. */
  #query(sql: string, params: unknown[] = [], client = this.#client): Promise<unknown> {
    if (!client) return Promise.resolve();
    const next = this.#tail.then(() => client.query(sql, params));
    this.#tail = next.catch(() => undefined);
    return next;
  }

  #ringLocal(channel: string): void {
    for (const onRing of this.#listeners.get(channel) ?? []) onRing();
  }

  #send(channel: string): void {
    const client = this.#client;
    if (!client) return;
    this.#sending.set(channel, 'one');
    this.#query('select pg_notify($1, $2)', [channel, this.#self], client)
      .catch(() => undefined) // a lost ring: the readers' timer covers it
      .finally(() => {
        const queued = this.#sending.get(channel) === 'more';
        this.#sending.delete(channel);
        if (queued) this.#send(channel);
      });
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url, application_name: 'ordergraph-doorbell' });
    client.on('error', () => undefined); // the 'end' that follows reconnects
    try {
      await client.connect();
      const { rows } = await client.query<{ version: string }>('select version()');
      this.#embedded = rows[0]?.version.includes('PGlite') === true;
      if (!this.#embedded) for (const channel of this.#listeners.keys()) await client.query(`listen ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.#embedded || this.#closed) {
      await client.end();
      return;
    }
    this.#attach(client);
  }

  #attach(client: pg.Client): void {
    client.on('notification', (message) => {
      if (message.payload !== this.#self) this.#ringLocal(message.channel);
    });
    client.on('end', () => {
      this.#client = undefined;
      if (this.#closed) return;
      this.#lost('doorbell connection lost; reconnecting');
      this.#reconnect();
    });
    this.#client = client;
    this.#tail = Promise.resolve();
    if (this.#down) this.#log.info('doorbell connection restored');
    this.#down = false;
    this.#attempt = 0;
    // Rings sent while this instance was not listening were lost: look once now.
    for (const channel of this.#listeners.keys()) this.#ringLocal(channel);
  }

  #lost(message: string, error?: unknown): void {
    if (!this.#down) this.#log.warn(error === undefined ? {} : { err: error instanceof Error ? error.message : String(error) }, message);
    this.#down = true;
  }

  #retry(error: unknown): void {
    this.#lost('doorbell cannot connect; retrying', error);
    this.#attempt += 1;
    this.#reconnect();
  }

  #reconnect(): void {
    setTimeout(() => {
      if (!this.#closed) this.#connect().catch((error: unknown) => this.#retry(error));
    }, reconnectDelay(this.#attempt)).unref();
  }
}
