import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local OTLP/HTTP endpoint, see {@link startOtlpSink}. */
export interface OtlpSink {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT, e.g. `http://127.0.0.1:41234`. */
  readonly endpoint: string;
  /** Export requests received so far. */
  requests(): number;
  close(): Promise<void>;
}

/**
 * An OTLP/HTTP endpoint on 127.0.0.1 that accepts every export and discards it, so that exporting
 * spans costs the gateway what it would in production (docker/compose.yaml sends them to a collector).
 */
export async function startOtlpSink(): Promise<OtlpSink> {
  let requests = 0;
  const server = createServer((request, response) => {
    requests += 1;
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
