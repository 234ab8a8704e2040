// A child process that holds many raw `ws` client sockets speaking graphql-transport-ws (the
// graphql-ws protocol) and records, for every `next` message, the receive time against the event's
// commit time (`at` in the payload). Raw `ws` instead of graphql-ws clients: a graphql-ws client
// adds its own state, timers and retry machinery per socket, and 10,000 of them in one process
// would measure the client more than the server. The parent (bench/subscriptions.ts) drives it
// over IPC; it exits when the parent goes away.
import WebSocket from 'ws';
import type { ClientCommand, ClientReply, EventDeliveries } from './protocol.ts';

const sockets = new Set<WebSocket>();
/** Deliveries per event (`orderId@version`) since the last reset. */
let deliveries = new Map<string, { at: number; latencies: number[] }>();
let errors = 0;
let firstError: string | undefined;
let unexpectedCloses = 0;
let closing = false;

const send = (reply: ClientReply) => process.send?.(reply);
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1_000;
};

function record(text: string): void {
  // Taken first: everything after it is the client's own cost, not delivery.
  const received = performance.timeOrigin + performance.now();
  const message = JSON.parse(text) as { type: string; payload?: { data?: { orderStatusChanged?: { version: number; at: string; order?: { id: string } | null } }; errors?: unknown } };
  if (message.type !== 'next') {
    if (message.type === 'error' || message.type === 'complete') {
      errors += 1;
      firstError ??= text.slice(0, 500);
    }
    return;
  }
  const change = message.payload?.data?.orderStatusChanged;
  if (message.payload?.errors || !change?.order) {
    errors += 1;
    firstError ??= text.slice(0, 500);
    if (!change) return;
  }
  const key = `${change.order?.id ?? '?'}@${change.version}`;
  let entry = deliveries.get(key);
  if (!entry) deliveries.set(key, (entry = { at: Date.parse(change.at), latencies: [] }));
  entry.latencies.push(received - entry.at);
}

/** Opens one socket, authenticates, subscribes; resolves once the subscribe message is sent. */
function open(command: Extract<ClientCommand, { type: 'connect' }>): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(command.url, 'graphql-transport-ws', {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: 30_000,
      ...(command.localAddress ? { localAddress: command.localAddress } : {}),
    });
    let subscribed = false;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${command.token}` } })));
    socket.on('message', (data: Buffer) => {
      if (subscribed) return record(data.toString());
      const text = data.toString();
      if (text.includes('"connection_ack"')) {
        subscribed = true;
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: command.query, variables: command.variables } }));
        resolve();
      } else if (text.includes('"ping"')) {
        socket.send('{"type":"pong"}');
      }
    });
    socket.on('error', (error) => {
      if (!subscribed) reject(error);
    });
    socket.on('close', (code) => {
      sockets.delete(socket);
      if (!subscribed) reject(new Error(`closed before ack: ${code}`));
      else if (!closing) {
        unexpectedCloses += 1;
        firstError ??= `socket closed with ${code}`;
      }
    });
    sockets.add(socket);
  });
}

async function connect(command: Extract<ClientCommand, { type: 'connect' }>): Promise<void> {
  closing = false;
  const started = performance.now();
  let next = 0;
  let failed = 0;
  let failure: string | undefined;
  // A bounded number of handshakes in flight: enough to keep the server busy, few enough not to
  // make it queue thousands of TLS-less upgrades and token checks at once.
  await Promise.all(
    Array.from({ length: Math.min(command.concurrency, command.count) }, async () => {
      while (next < command.count) {
        next += 1;
        await open(command).catch((error: unknown) => {
          failed += 1;
          failure ??= String(error);
        });
      }
    }),
  );
  send({ type: 'connected', open: sockets.size, failed, ms: performance.now() - started, ...(failure ? { failure } : {}) });
}

async function closeAll(): Promise<void> {
  closing = true;
  const waits = [...sockets].map(
    (socket) =>
      new Promise<void>((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) return resolve();
        socket.once('close', () => resolve());
        // terminate(): no closing handshake to wait for; the server sees the TCP close at once.
        socket.terminate();
      }),
  );
  await Promise.all(waits);
  send({ type: 'closed' });
}

process.on('message', (command: ClientCommand) => {
  switch (command.type) {
    case 'connect':
      void connect(command);
      break;
    case 'reset':
      deliveries = new Map();
      errors = 0;
      firstError = undefined;
      unexpectedCloses = 0;
      send({ type: 'reset', cpuMs: cpuMs() });
      break;
    case 'report': {
      const events: EventDeliveries[] = [...deliveries].map(([key, entry]) => ({ key, at: entry.at, latencies: Float64Array.from(entry.latencies) }));
      send({ type: 'report', open: sockets.size, events, errors, unexpectedCloses, cpuMs: cpuMs(), ...(firstError ? { firstError } : {}) });
      break;
    }
    case 'close':
      void closeAll();
      break;
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
