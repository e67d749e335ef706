import pino, { type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config/config.ts';

export type { Logger } from 'pino';

/**
 * Field names that carry a credential wherever they appear. The request logger never logs
 * bodies, queries or headers in the first place; this is the second line of defence for
 * whatever other code hands to the logger (an error's context, a client's metadata).
 */
export const CREDENTIAL_FIELDS = [
  'password',
  'new_password',
  'current_password',
  'client_secret',
  'secret',
  'access_token',
  'refresh_token',
  'id_token',
  'code',
  'code_verifier',
  'device_code',
  'user_code',
  'token',
  'client_assertion',
  'assertion',
  'registration_access_token',
  'initial_access_token',
  'authorization',
  'cookie',
  'set-cookie',
  'dpop',
  'csrf',
  '_csrf',
  // ioredis errors carry `command.args`, and Redis keys hold token ids.
  'args',
] as const;

const REDACT_PATHS = [
  ...CREDENTIAL_FIELDS.flatMap((field) => {
    const key = /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
    const member = key.startsWith('[') ? key : `.${key}`;
    return [key, `*${member}`, `*.*${member}`];
  }),
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/** Error fields worth a log line; everything else on an error object stays out. */
interface SafeError {
  type: string;
  message: string;
  stack?: string;
  /** The error's `code` (`ECONNREFUSED`, `STORE_UNAVAILABLE`); renamed because `code` is redacted. */
  errorCode?: string;
  status?: number;
  error?: string;
  error_description?: string;
  error_detail?: string;
  cause?: SafeError;
}

/**
 * Serializes errors by allow-list. ioredis errors carry the failed `command` with its
 * arguments, and Gatehouse's Redis keys contain token ids (an opaque refresh token's id IS
 * the token), so pino's default serializer, which copies every enumerable property, would
 * write tokens into the log.
 */
export function serializeError(value: unknown, depth = 0): SafeError | unknown {
  if (!(value instanceof Error)) return value;
  const err = value as Error & Record<string, unknown>;
  const out: SafeError = { type: err.name, message: err.message };
  if (typeof err.stack === 'string') out.stack = err.stack;
  if (typeof err.code === 'string') out.errorCode = err.code;
  if (typeof err.status === 'number') out.status = err.status;
  if (typeof err.error === 'string') out.error = err.error;
  if (typeof err.error_description === 'string') out.error_description = err.error_description;
  if (typeof err.error_detail === 'string') out.error_detail = err.error_detail;
  if (err.cause instanceof Error && depth < 3) out.cause = serializeError(err.cause, depth + 1) as SafeError;
  return out;
}

export interface CreateLoggerOptions {
  /** Default: `warn` under NODE_ENV=test, `info` otherwise. */
  readonly level?: pino.LevelWithSilent;
}

/** Log lines are written to stdout in batches of this many bytes… */
const LOG_BUFFER_BYTES = 4096;
/** …or after this long, whichever comes first. */
const LOG_FLUSH_MS = 1000;

/**
 * Structured JSON logs, one object per line, with every credential field redacted.
 * Pretty-printed (pino-pretty) only in development on a terminal, so a pipe or a log
 * collector always receives JSON.
 *
 * Lines reach stdout in batches (4 KiB, or within a second): one write per batch instead of
 * one per request. What is still buffered is written synchronously when the process exits:
 * after SIGTERM/SIGINT (graceful shutdown ends in `process.exit()`), `process.exit()` or an
 * uncaught exception; only a SIGKILL (or an OOM kill) loses the last second of lines. Not
 * pino's asynchronous mode: its write in flight when the process exits is lost
 * (test/observability/log-flush-on-exit.test.ts).
 *
 * @example
 * const log = createLogger(config);
 * log.info({ issuer: config.issuer }, 'gatehouse listening');
 */
export function createLogger(
  config: Pick<Config, 'env'>,
  destination?: pino.DestinationStream,
  options: CreateLoggerOptions = {},
): Logger {
  const settings: LoggerOptions = {
    level: options.level ?? (config.env === 'test' ? 'warn' : 'info'),
    base: { service: 'gatehouse' },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: serializeError, error: serializeError },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (destination) return pino(settings, destination);
  if (config.env === 'development' && process.stdout.isTTY && prettyAvailable()) {
    return pino({
      ...settings,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss' } },
    });
  }
  const stdout = pino.destination({
    dest: process.stdout.fd,
    sync: true,
    minLength: LOG_BUFFER_BYTES,
    periodicFlush: LOG_FLUSH_MS,
  });
  // pino flushes its asynchronous destinations on exit, not a buffered synchronous one: we do.
  process.once('exit', () => {
    try {
      stdout.flushSync();
    } catch {
      // Destroyed already (stdout closed): there is nowhere left to write.
    }
  });
  return pino(settings, stdout);
}

/** pino-pretty is a development dependency; a production install falls back to JSON. */
function prettyAvailable(): boolean {
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
