import { within } from './eventually.ts';

/** One server-sent event as an EventSource would dispatch it (`data` lines joined with `\n`). */
export interface SseMessage {
  readonly event: string;
  /** The event's `id:` field; undefined when it has none. */
  readonly id: string | undefined;
  readonly data: string;
}

/**
 * Reads a `text/event-stream` response body message by message, as the HTML spec's event stream
 * interpretation does (comments and unknown fields ignored, one leading space of a value dropped).
 */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = '';
  #pending: SseMessage[] = [];
  #ended = false;
  #reconnectionTimeMs: number | undefined;

  constructor(response: Response) {
    this.#reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The last `retry:` the server sent (ms an EventSource waits before reconnecting); undefined when none. */
  get reconnectionTimeMs(): number | undefined {
    return this.#reconnectionTimeMs;
  }

  /** Whether the server ended the stream (read to its end). */
  get ended(): boolean {
    return this.#ended;
  }

  /** The next message, or undefined once the server has ended the stream. */
  async next(): Promise<SseMessage | undefined> {
    while (this.#pending.length === 0) {
      if (this.#ended) return undefined;
      const { value, done } = await this.#reader.read();
      if (done) this.#ended = true;
      else this.#parse(value);
    }
    return this.#pending.shift();
  }

  /** Messages up to and including the first that `until` accepts (rejects after `ms`, or when the stream ends first). */
  async readUntil(until: (message: SseMessage) => boolean, ms = 10_000, what = 'the awaited SSE event'): Promise<SseMessage[]> {
    const read = async () => {
      const messages: SseMessage[] = [];
      for (;;) {
        const message = await this.next();
        if (message === undefined) throw new Error(`the stream ended before ${what}: ${JSON.stringify(messages)}`);
        messages.push(message);
        if (until(message)) return messages;
      }
    };
    return within(read(), ms, what);
  }

  /** Every message until the server ends the stream (rejects after `ms`). */
  async readToEnd(ms = 10_000): Promise<SseMessage[]> {
    const read = async () => {
      const messages: SseMessage[] = [];
      for (let message = await this.next(); message !== undefined; message = await this.next()) messages.push(message);
      return messages;
    };
    return within(read(), ms, 'the end of the stream');
  }

  /** Disconnects, as a client that goes away does. */
  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }

  #parse(text: string): void {
    this.#buffer += text.replace(/\r\n?/g, '\n');
    let end;
    while ((end = this.#buffer.indexOf('\n\n')) >= 0) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      let event = '';
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
        if (field === 'event') event = value;
        else if (field === 'id') id = value;
        else if (field === 'data') data.push(value);
        else if (field === 'retry' && /^\d+$/.test(value)) this.#reconnectionTimeMs = Number(value);
      }
      // A block with a data line or an event name is an event (EventSource dispatches only those with data).
      if (event || data.length > 0) this.#pending.push({ event: event || 'message', id, data: data.join('\n') });
    }
  }
}

/**
 * Opens a subscription as graphql-sse's distinct connections mode does (POST, JSON body, `accept:
 * text/event-stream`), with `lastEventId` as a reconnecting EventSource would send it.
 */
export function sseSubscribe(
  url: string,
  body: { query: string; variables?: Record<string, unknown>; operationName?: string },
  options: { token?: string; lastEventId?: string } = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.lastEventId !== undefined ? { 'last-event-id': options.lastEventId } : {}),
    },
    body: JSON.stringify(body),
  });
}
