import type { Config } from '../config/config.ts';

const MASK = '********';

/** A URL with its password (and username) hidden, e.g. `redis://********@host:6379`. */
function maskUrl(value: string): string {
  const url = new URL(value);
  if (url.password === '' && url.username === '') return value;
  url.username = MASK;
  url.password = '';
  return url.toString();
}

/**
 * `gatehouse config check`: the effective configuration (defaults applied) as JSON, secrets
 * replaced by a mask so the output can be pasted into an issue. Reaching this point means
 * `loadConfig` accepted the environment.
 *
 * @example
 * console.log(configCheck(loadConfig()));
 */
export function configCheck(config: Config): string {
  const redis =
    config.redis.kind === 'standalone' ? { ...config.redis, url: maskUrl(config.redis.url) } : config.redis;
  return JSON.stringify(
    {
      ...config,
      redis,
      secret: config.secret === undefined ? null : MASK,
      registrationToken: config.registrationToken === undefined ? null : MASK,
      smtpUrl: config.smtpUrl === undefined ? null : maskUrl(config.smtpUrl),
      clientsFile: config.clientsFile ?? null,
      metricsPort: config.metricsPort ?? null,
    },
    null,
    2,
  );
}
