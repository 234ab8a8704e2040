import { connect, createServer, type Server, type Socket } from 'node:net';

/** One statement as PostgreSQL received it. */
export interface SeenStatement {
  readonly at: number;
  readonly sql: string;
}

/**
 * A TCP proxy in front of PostgreSQL that reads the frontend side of the wire protocol and records
 * every statement the server is asked to run: each simple-protocol Query ('Q', which is how `pg`
 * sends BEGIN/COMMIT) and each extended-protocol Execute ('E', with the text of the Parse that
 * prepared it, or of the named statement it runs). Bytes are forwarded unchanged, so it counts
 * what reaches the database whatever the client library, ORM or caching in front of it; only used
 * for the counting phase, never while throughput is measured. Loopback only.
 */
export async function startStatementCounter(target: { host: string; port: number }): Promise<{ port: number; statements: SeenStatement[]; close(): Promise<void> }> {
  const statements: SeenStatement[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    let buffer: Buffer = Buffer.alloc(0);
    let started = false;
    let lastParse = '';
    const named = new Map<string, string>();
    const portals = new Map<string, string>();
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      for (;;) {
        if (!started) {
          // Startup (or SSLRequest / CancelRequest) message: int32 length, no type byte.
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) return;
          const code = buffer.readInt32BE(4);
          buffer = buffer.subarray(length);
          if (code === 196608) started = true; // protocol 3.0; SSLRequest (80877103) is answered 'N' and followed by the startup
          continue;
        }
        if (buffer.length < 5) return;
        const type = String.fromCharCode(buffer[0]!);
        const length = buffer.readInt32BE(1);
        if (buffer.length < 1 + length) return;
        const body = buffer.subarray(5, 1 + length);
        buffer = buffer.subarray(1 + length);
        if (type === 'Q') {
          statements.push({ at: performance.now(), sql: body.subarray(0, body.indexOf(0)).toString('utf8') });
        } else if (type === 'P') {
          const nameEnd = body.indexOf(0);
          const name = body.subarray(0, nameEnd).toString('utf8');
          lastParse = body.subarray(nameEnd + 1, body.indexOf(0, nameEnd + 1)).toString('utf8');
          if (name) named.set(name, lastParse);
        } else if (type === 'B') {
          const portalEnd = body.indexOf(0);
          const portal = body.subarray(0, portalEnd).toString('utf8');
          const statement = body.subarray(portalEnd + 1, body.indexOf(0, portalEnd + 1)).toString('utf8');
          portals.set(portal, statement ? (named.get(statement) ?? statement) : lastParse);
        } else if (type === 'E') {
          const portal = body.subarray(0, body.indexOf(0)).toString('utf8');
          statements.push({ at: performance.now(), sql: portals.get(portal) ?? lastParse });
        }
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    statements,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
