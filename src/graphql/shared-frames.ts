import type { WebSocket } from 'ws';

/**
 * graphql-ws `next` messages serialised once per result object instead of once per socket. A
 * shared subscription result (one object for every subscriber of a cohort, see
 * shared-subscriptions.ts) is turned into JSON the first time it is sent, and every later socket
 * gets that text; sockets whose operation id is the same as the previous one's get the very same
 * bytes (one Buffer, written without a copy). graphql-ws has no hook that takes a ready message:
 * it calls `JSON.stringify(message, jsonMessageReplacer)` and hands the text to the socket's
 * `send` in the same synchronous step (graphql-ws 6, server `emit.next`; `use/ws`'s `send`). So
 * the replacer sets the message aside and answers `undefined` for the whole of it (no
 * serialisation at all), and the socket class's `send`, called next with that `undefined`, takes
 * it. `JSON.rawJSON` cannot do this: it only takes primitive JSON text, not an object.
 * Measured with bench/subscriptions.ts at 10,000 subscribers: see bench/RESULTS.md (issue 14).
 */
export interface SharedFrames {
  /** graphql-ws `onNext`: the result itself as the payload (graphql-ws otherwise copies it per socket), so its text can be found again. */
  readonly payloadOf: <R extends object>(result: R) => R;
  /** graphql-ws `jsonMessageReplacer`. */
  readonly replacer: (this: unknown, key: string, value: unknown) => unknown;
  /** Extends a `ws` socket class so that `send(undefined)` writes the message the replacer set aside. */
  // `any[]`: what TypeScript requires of a mixin's base constructor.
  readonly socketClass: <C extends new (...args: any[]) => WebSocket>(base: C) => C;
}

interface Serialised {
  /** The payload's JSON. */
  readonly json: string;
  /** The last operation id sent this payload and its whole message, as bytes. */
  lastId?: string;
  lastFrame?: Buffer;
}

/** See {@link SharedFrames}. */
export function createSharedFrames(): SharedFrames {
  const serialised = new WeakMap<object, Serialised>();
  // The message of the `next` the replacer has just seen, for the `send` that follows at once.
  let pending: Buffer | string | undefined;

  const frameOf = (id: string, payload: object): Buffer | string => {
    let entry = serialised.get(payload);
    if (!entry) serialised.set(payload, (entry = { json: JSON.stringify(payload) }));
    if (entry.lastId === id) return entry.lastFrame!;
    const text = `{"id":${JSON.stringify(id)},"type":"next","payload":${entry.json}}`;
    // The first id's message is kept as bytes, reused by every later socket with that id (clients
    // tend to number their first subscription alike); messages under other ids are sent as text.
    if (entry.lastId === undefined) {
      entry.lastId = id;
      entry.lastFrame = Buffer.from(text);
      return entry.lastFrame;
    }
    return text;
  };

  return {
    payloadOf: (result) => result,
    replacer(key, value) {
      if (key !== '' || typeof value !== 'object' || value === null) return value;
      const message = value as { type?: unknown; id?: unknown; payload?: unknown };
      if (message.type !== 'next' || typeof message.id !== 'string' || typeof message.payload !== 'object' || message.payload === null) return value;
      pending = frameOf(message.id, message.payload);
      return undefined;
    },
    socketClass: (base) =>
      class SharedFrameSocket extends base {
        override send(data: unknown, ...rest: unknown[]): void {
          if (data === undefined && pending !== undefined) {
            data = pending;
            // A Buffer is text all the same (graphql-transport-ws speaks text frames only).
            if (typeof rest[0] !== 'object' || rest[0] === null) rest.unshift({ binary: false });
          }
          pending = undefined;
          (super.send as (...args: unknown[]) => void)(data, ...rest);
        }
      },
  };
}
