import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createSharedFrames } from './shared-frames.ts';

/** A `ws` socket class that records what it is asked to send instead of sending it. */
class RecordingSocket extends WebSocket {
  readonly sent: { data: unknown; options: unknown }[] = [];
  constructor() {
    // ws's constructor for a server-side socket: no address, no connection made.
    super(null as unknown as string, undefined, {});
  }
  override send(data: unknown, optionsOrCallback?: unknown, callback?: () => void): void {
    const options = typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback;
    this.sent.push({ data, options });
    (typeof optionsOrCallback === 'function' ? optionsOrCallback : callback)?.();
  }
}

/** What graphql-ws does for a message: stringify it with the replacer, hand the text to the socket at once. */
function emit(frames: ReturnType<typeof createSharedFrames>, socket: WebSocket, message: object): void {
  socket.send(JSON.stringify(message, frames.replacer) as string, () => {});
}

const text = (data: unknown) => (Buffer.isBuffer(data) ? data.toString() : String(data));

/** A result whose serialisations are counted (JSON.stringify calls toJSON each time it serialises the object). */
function countedResult() {
  const counter = { serialised: 0 };
  const order = { id: 'T3JkZXI6MQ==', total: { amount: '12.50', currency: 'USD' }, toJSON: () => (counter.serialised++, { id: 'T3JkZXI6MQ==', total: { amount: '12.50', currency: 'USD' } }) };
  return { counter, result: { data: { orderStatusChanged: { version: 2, to: 'SHIPPED', order } }, extensions: { cursor: 'c1' } } };
}

describe('shared graphql-ws frames', () => {
  it('serialises a result once for every socket and writes the same bytes where the operation id is the same', () => {
    const frames = createSharedFrames();
    const Socket = frames.socketClass(RecordingSocket);
    const sockets = [new Socket(), new Socket(), new Socket()];
    const { counter, result } = countedResult();

    for (const socket of sockets) emit(frames, socket, { id: '1', type: 'next', payload: frames.payloadOf(result) });

    expect(counter.serialised).toBe(1);
    const sent = sockets.map((s) => s.sent[0]!);
    for (const { data, options } of sent) {
      expect(JSON.parse(text(data))).toEqual({ id: '1', type: 'next', payload: JSON.parse(JSON.stringify(result)) });
      // graphql-transport-ws is text: a Buffer goes as a text frame.
      expect(options).toEqual({ binary: false });
    }
    expect(sent[1]!.data).toBe(sent[0]!.data);
    expect(sent[2]!.data).toBe(sent[0]!.data);
  });

  it('gives each socket its own operation id around the one serialised payload', () => {
    const frames = createSharedFrames();
    const Socket = frames.socketClass(RecordingSocket);
    const { counter, result } = countedResult();
    const ids = ['1', 'b6f1c6d2-uuid', 'id with "quotes"'];
    const sockets = ids.map(() => new Socket());

    sockets.forEach((socket, i) => emit(frames, socket, { id: ids[i], type: 'next', payload: frames.payloadOf(result) }));

    expect(counter.serialised).toBe(1);
    sockets.forEach((socket, i) => expect(JSON.parse(text(socket.sent[0]!.data))).toMatchObject({ id: ids[i], type: 'next', payload: { extensions: { cursor: 'c1' } } }));
  });

  it('leaves every other message as graphql-ws wrote it', () => {
    const frames = createSharedFrames();
    const socket = new (frames.socketClass(RecordingSocket))();
    const messages = [{ type: 'connection_ack' }, { type: 'pong', payload: { at: 1 } }, { id: '1', type: 'error', payload: [{ message: 'no' }] }, { id: '1', type: 'complete' }];

    for (const message of messages) emit(frames, socket, message);

    expect(socket.sent.map((s) => s.data)).toEqual(messages.map((m) => JSON.stringify(m)));
  });

  it('keeps nothing for a next message whose socket was not written to: the next socket gets its own message', () => {
    const frames = createSharedFrames();
    const socket = new (frames.socketClass(RecordingSocket))();
    const first = countedResult().result;
    const second = { data: { orderStatusChanged: { version: 3 } } };

    // graphql-ws skips the write for a socket that is no longer open.
    JSON.stringify({ id: '1', type: 'next', payload: first }, frames.replacer);
    emit(frames, socket, { id: '1', type: 'next', payload: second });

    expect(JSON.parse(text(socket.sent[0]!.data))).toEqual({ id: '1', type: 'next', payload: second });
  });
});
