// The floor for memory per socket: a bare `ws` server with Ordergraph's socket options (no
// compression, the same message cap), on an HTTP server like Ordergraph's, that answers
// connection_init with connection_ack and otherwise only holds the sockets (and broadcasts on
// request, for the latency floor). Started by
// bench/subscriptions.ts with `--inspect` so both servers are measured the same way.
//
//   node bench/subscriptions/bare-server.ts <port>
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
// POST /broadcast?version=N: the practical limit of a fan-out, one message of the size and shape of
// Ordergraph's event sent to every socket, as graphql-ws sends it (a string, `socket.send` per socket).
const server = createServer((request, response) => {
  if (request.method !== 'POST' || !request.url?.startsWith('/broadcast')) return void response.writeHead(200).end('ok');
  const version = Number(new URL(request.url, 'http://localhost').searchParams.get('version') ?? 0);
  const message = JSON.stringify({
    id: '1',
    type: 'next',
    payload: { data: { orderStatusChanged: { version, from: 'PAID', to: 'SHIPPED', at: new Date().toISOString(), order: { id: 'T3JkZXI6YmFyZQ==', number: version, status: 'SHIPPED', total: { amount: '12.50', currency: 'USD' } } } } },
  });
  for (const socket of wss.clients) socket.send(message);
  response.writeHead(204).end();
});
const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: 64 * 1024, perMessageDeflate: false });
wss.on('connection', (socket) => {
  socket.on('message', (data: Buffer) => {
    if (data.toString().includes('"connection_init"')) socket.send('{"type":"connection_ack"}');
  });
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
process.on('SIGTERM', () => {
  for (const socket of wss.clients) socket.terminate();
  server.close(() => process.exit(0));
});
