import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process logger: JSON lines on stdout. Credentials never reach a log line: the paths below are
 * redacted wherever a request, header or input object is logged.
 * @param options.mixin adds fields to every line (the request's correlation ids, see
 *   platform/observability/log-context.ts).
 */
export function createLogger(level: string, destination?: pino.DestinationStream, options: { mixin?: () => Record<string, unknown> } = {}): Logger {
  return pino(
    {
      level,
      base: { service: 'ordergraph' },
      ...(options.mixin ? { mixin: options.mixin } : {}),
      redact: {
        paths: [
          'password',
          '*.password',
          'input.password',
          'authorization',
          '*.authorization',
          'headers.authorization',
          'req.headers.authorization',
          'accessToken',
          '*.accessToken',
          'connectionParams.authorization',
          'token',
          '*.token',
          'refreshToken',
          '*.refreshToken',
          'signature',
          '*.signature',
          'secret',
          '*.secret',
          'headers.cookie',
          'req.headers.cookie',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
