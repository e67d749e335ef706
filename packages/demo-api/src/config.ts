/**
 * The demo API's configuration, read once from the environment (frozen).
 *
 * @example
 * ```ts
 * const { port, issuer, apiUrl }: DemoApiConfig = loadConfig(process.env);
 * ```
 */
export interface DemoApiConfig {
  readonly port: number;
  readonly issuer: string;
  readonly apiUrl: string;
  readonly redisUrl: string | undefined;
}

/**
 * Reads `PORT` (4001), `ISSUER` (http://localhost:4000), `API_URL` (http://localhost:$PORT) and
 * `REDIS_URL` (unset: in-process store), validating them; nothing else reads `process.env`.
 *
 * @throws {Error} naming the variable that is invalid.
 * @example
 * ```ts
 * const config = loadConfig(process.env);
 * ```
 */
export function loadConfig(env: Record<string, string | undefined>): DemoApiConfig {
  const port = Number(env.PORT ?? 4001);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${env.PORT}`);
  const url = (name: string, value: string) => {
    try {
      const parsed = new URL(value);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
    } catch {
      throw new Error(`${name} must be an http(s) URL, got ${value}`);
    }
    return value.replace(/\/$/, '');
  };
  return Object.freeze({
    port,
    issuer: url('ISSUER', env.ISSUER ?? 'http://localhost:4000'),
    apiUrl: url('API_URL', env.API_URL ?? `http://localhost:${port}`),
    redisUrl: env.REDIS_URL || undefined,
  });
}
