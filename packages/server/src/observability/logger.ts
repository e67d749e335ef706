import pino, { type Logger } from 'pino';
import type { Config } from '../config.ts';

export type { Logger } from 'pino';

/**
 * Structured JSON logs. Anything that could carry a credential is redacted at the source:
 * authorization headers, cookies, and the token/secret/password fields of request bodies.
 */
export function createLogger(config: Pick<Config, 'env'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.env === 'test' ? 'warn' : 'info',
      base: { service: 'gatehouse' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.password',
          '*.client_secret',
          '*.refresh_token',
          '*.access_token',
          '*.code',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
