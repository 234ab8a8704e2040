import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A fault the fake provider injects into one request. */
export type Fault =
  /** Answer 503 without processing. */
  | 'http-500'
  /** Never answer (the client's timeout fires); nothing is processed. */
  | 'timeout'
  /** Answer 429 with `Retry-After: 1` without processing. */
  | 'rate-limit'
  /** Process the charge, then reset the connection instead of answering. */
  | 'reset-after-processing'
  /** Process and answer, but only after a delay (`slowMs`). */
  | 'slow';

/** A charge as the fake provider stores it. Amounts in minor units. */
export interface FakeCharge {
  readonly id: string;
  readonly idempotencyKey: string;
  readonly amount: number;
  readonly currency: string;
  readonly orderId: string | undefined;
  refund: string | null;
}

/** Options of {@link startFakeProvider}. */
export interface FakeProviderOptions {
  /** Expected `Authorization: Bearer <secretKey>`. */
  readonly secretKey: string;
  /** Charges strictly above this (minor units) are declined with 402 `insufficient_funds`. */
  readonly declineAbove?: number;
  /** Delay of a 'slow' fault, ms. */
  readonly slowMs?: number;
}

/**
 * A payment provider speaking the contract of docs/payment-provider.md on 127.0.0.1, for tests:
 * idempotent by Idempotency-Key like Stripe (a replay returns the first answer and charges
 * nothing), recording every charge and refund, with faults injected per request by a chooser.
 * It can also be taken "down" (every connection is destroyed at once) and called back on each
 * charge request as it arrives (to kill a client mid-request).
 */
export interface FakeProvider {
  readonly url: string;
  readonly charges: readonly FakeCharge[];
  /** Faults injected so far, by kind. */
  readonly injected: Record<Fault, number>;
  /** Requests received so far, by path. */
  readonly requests: { charges: number; refunds: number; lookups: number };
  /** Chooses a fault for a request (or none). Default: none. */
  chooseFault: (kind: 'charge' | 'refund' | 'lookup') => Fault | undefined;
  /** Called when a charge request arrives, before it is processed. */
  onChargeRequest: ((idempotencyKey: string) => void) | undefined;
  /** While true, every connection is destroyed on arrival (the provider is down). */
  down: boolean;
  /** Net amount held: Σ charges not refunded, by idempotency key. */
  netByKey(): Map<string, number>;
  stop(): Promise<void>;
}

export async function startFakeProvider(options: FakeProviderOptions): Promise<FakeProvider> {
  const charges: FakeCharge[] = [];
  const byKey = new Map<string, { status: number; body: unknown }>();
  const refundsByKey = new Map<string, { status: number; body: unknown }>();
  const sockets = new Set<Socket>();
  const injected: Record<Fault, number> = { 'http-500': 0, timeout: 0, 'rate-limit': 0, 'reset-after-processing': 0, slow: 0 };
  const requests = { charges: 0, refunds: 0, lookups: 0 };
  let counter = 0;
  const nextId = (prefix: string) => `${prefix}_fake_${(++counter).toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

  const fake: FakeProvider = {
    url: '',
    charges,
    injected,
    requests,
    chooseFault: () => undefined,
    onChargeRequest: undefined,
    down: false,
    netByKey() {
      const net = new Map<string, number>();
      for (const charge of charges) net.set(charge.idempotencyKey, (net.get(charge.idempotencyKey) ?? 0) + (charge.refund ? 0 : charge.amount));
      return net;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      let data = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (data += chunk));
      req.on('end', () => resolve(data));
      req.on('error', reject);
    });

  const chargeJson = (c: FakeCharge) => ({ id: c.id, amount: c.amount, currency: c.currency, status: c.refund ? 'refunded' : 'succeeded', refund: c.refund });

  const server: Server = createServer(async (req, res) => {
    if (fake.down) {
      req.socket.destroy();
      return;
    }
    if (req.headers.authorization !== `Bearer ${options.secretKey}`) return send(res, 401, { error: { type: 'authentication_error', message: 'bad key' } });
    const url = new URL(req.url ?? '/', 'http://fake');
    const kind = url.pathname === '/v1/charges' && req.method === 'POST' ? 'charge' : url.pathname === '/v1/refunds' ? 'refund' : 'lookup';
    const body = req.method === 'POST' ? await readBody(req) : '';
    if (kind === 'charge') {
      requests.charges += 1;
      fake.onChargeRequest?.(String(req.headers['idempotency-key'] ?? ''));
    } else if (kind === 'refund') requests.refunds += 1;
    else requests.lookups += 1;

    const fault = fake.chooseFault(kind);
    if (fault) injected[fault] += 1;
    if (fault === 'http-500') return send(res, 503, { error: { type: 'api_error', message: 'injected' } });
    if (fault === 'rate-limit') return send(res, 429, { error: { type: 'rate_limit_error', message: 'slow down' } }, { 'retry-after': '1' });
    if (fault === 'timeout') return; // never answers; the client gives up
    if (fault === 'slow') await new Promise((resolve) => setTimeout(resolve, options.slowMs ?? 300));

    let answer: { status: number; body: unknown };
    if (kind === 'lookup') {
      const key = url.searchParams.get('idempotency_key') ?? '';
      answer = { status: 200, body: { data: charges.filter((c) => c.idempotencyKey === key).map(chargeJson) } };
    } else if (kind === 'charge') {
      const key = String(req.headers['idempotency-key'] ?? '');
      if (!key) return send(res, 400, { error: { type: 'invalid_request_error', message: 'Idempotency-Key required' } });
      const previous = byKey.get(key);
      if (previous) {
        answer = previous;
      } else {
        const request = JSON.parse(body) as { amount: number; currency: string; metadata?: { order_id?: string } };
        if (options.declineAbove !== undefined && request.amount > options.declineAbove) {
          answer = { status: 402, body: { error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Insufficient funds' } } };
        } else {
          const charge: FakeCharge = { id: nextId('ch'), idempotencyKey: key, amount: request.amount, currency: request.currency, orderId: request.metadata?.order_id, refund: null };
          charges.push(charge);
          answer = { status: 200, body: chargeJson(charge) };
        }
        byKey.set(key, answer);
      }
    } else {
      const key = String(req.headers['idempotency-key'] ?? '');
      const previous = refundsByKey.get(key);
      if (previous) {
        answer = previous;
      } else {
        const request = JSON.parse(body) as { charge: string };
        const charge = charges.find((c) => c.id === request.charge);
        if (!charge) answer = { status: 404, body: { error: { type: 'invalid_request_error', message: 'no such charge' } } };
        else if (charge.refund) answer = { status: 400, body: { error: { type: 'invalid_request_error', message: 'already refunded' } } };
        else {
          charge.refund = nextId('re');
          answer = { status: 200, body: { id: charge.refund, charge: charge.id, status: 'succeeded' } };
        }
        refundsByKey.set(key, answer);
      }
    }
    if (fault === 'reset-after-processing') {
      req.socket.destroy();
      return;
    }
    send(res, answer.status, answer.body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  (fake as { url: string }).url = `http://127.0.0.1:${port}/`;
  return fake;
}
