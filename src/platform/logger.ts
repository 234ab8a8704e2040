import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process logger: JSON lines on stdout. Credentials never reach a log line: the paths below are
 * redacted wherever a request, header or input object is logged.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'ordergraph' },
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
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
