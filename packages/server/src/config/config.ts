import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * A resource server (API) that receives JWT access tokens (RFC 9068).
 * `uri` is its RFC 8707 resource indicator and becomes the token's `aud`.
 */
export interface ResourceServerConfig {
  readonly uri: string;
  readonly scopes: readonly string[];
  readonly accessTokenTTL?: number;
}

/** The validated, frozen server configuration. Nothing else reads `process.env`. */
export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly issuer: string;
  readonly redis:
    | { readonly kind: 'memory' }
    | { readonly kind: 'standalone'; readonly url: string }
    | { readonly kind: 'cluster'; readonly nodes: readonly { host: string; port: number }[] };
  /** System secret; `undefined` only in development/test, where one is generated per process. */
  readonly secret: string | undefined;
  readonly clientsFile: string | undefined;
  readonly resources: readonly ResourceServerConfig[];
  readonly registrationToken: string | undefined;
  readonly accessTokenTTL: number;
  /**
   * The longest lifetime of any access token this server issues: `accessTokenTTL` or a resource's
   * own `accessTokenTTL`, whichever is longer. A revocation event must outlive every token it
   * matches, so the server and the CLI size revocation events (and key retirement) with this.
   */
  readonly longestAccessTokenTTL: number;
  readonly refreshTokenTTL: number;
  readonly refreshTokenReuseInterval: number;
  /**
   * The lifetimes the token store is built with, derived here once from the TTLs above: a revoked
   * grant's tombstone lives `refreshTokenTTL` (no request racing the revocation can outlive it),
   * and a revocation event lives `longestAccessTokenTTL` (every access token it matches has
   * expired by then). The server and the CLI build their stores with exactly this.
   */
  readonly tokenStore: {
    readonly revokedTTL: number;
    readonly accessTokenTTL: number;
  };
  /**
   * Proxies in front of the server that append to `X-Forwarded-For` (0: none, X-Forwarded-* are ignored).
   * The client address is the entry the outermost of them appended, this many from the right: the
   * entries left of it are whatever the client sent.
   */
  readonly trustedProxyHops: number;
  /**
   * RFC 9449 §8: every DPoP proof must carry a nonce this server issued (`DPOP_REQUIRE_NONCE=1`);
   * a proof without one is answered `use_dpop_nonce` with a `DPoP-Nonce` header. Off, nonces are
   * still issued and honoured, but a recent `iat` is enough.
   */
  readonly dpopRequireNonce: boolean;
  readonly smtpUrl: string | undefined;
  readonly selfRegistration: 'open' | 'closed';
  readonly metricsPort: number | undefined;
  /** Seconds a JWKS response may be cached; also the pre-publication delay of a new signing key. */
  readonly jwksMaxAge: number;
  /**
   * Seconds between SIGTERM and closing the listener, while `/readyz` already answers 503 so that a load
   * balancer stops sending new connections; 0 closes at once.
   */
  readonly shutdownDelay: number;
}

/** Thrown for a configuration the server must not start with; `message` is one line for the operator. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const seconds = (name: string, fallback: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return fallback;
      if (!/^\d+$/.test(value)) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be a whole number of seconds, got "${value}"`,
        });
        return z.NEVER;
      }
      return Number(value);
    });

const port = (name: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return undefined;
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < 1 || n > 65535) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a port number 1-65535, got "${value}"` });
        return z.NEVER;
      }
      return n;
    });

const resourceSchema = z.array(
  z
    .object({
      uri: z.url(),
      scopes: z.array(
        z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'scope tokens are RFC 6749 §3.3 NQCHARs'),
      ),
      accessTokenTTL: z.number().int().positive().optional(),
    })
    .strict(),
);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).optional(),
  PORT: port('PORT'),
  ISSUER: z.url({ message: 'ISSUER must be an absolute http(s) URL' }).optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'REDIS_URL must start with redis:// or rediss://')
    .optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, 'REDIS_CLUSTER_NODES must be comma-separated host:port seeds')
    .optional(),
  GATEHOUSE_SECRET: z.string().min(32, 'GATEHOUSE_SECRET must be at least 32 characters').optional(),
  GATEHOUSE_CLIENTS_FILE: z.string().optional(),
  GATEHOUSE_RESOURCES_FILE: z.string().optional(),
  GATEHOUSE_REGISTRATION_TOKEN: z
    .string()
    .min(16, 'GATEHOUSE_REGISTRATION_TOKEN must be at least 16 characters')
    .optional(),
  ACCESS_TOKEN_TTL: seconds('ACCESS_TOKEN_TTL', 900),
  REFRESH_TOKEN_TTL: seconds('REFRESH_TOKEN_TTL', 1_209_600),
  REFRESH_TOKEN_REUSE_INTERVAL: seconds('REFRESH_TOKEN_REUSE_INTERVAL', 0),
  TRUST_PROXY: z
    .string()
    .regex(
      /^\d{1,2}$/,
      'TRUST_PROXY must be the number of trusted proxy hops (0 for none, 1 behind one proxy)',
    )
    .optional(),
  DPOP_REQUIRE_NONCE: z.enum(['0', '1'], { message: 'DPOP_REQUIRE_NONCE must be 0 or 1' }).optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'SMTP_URL must start with smtp:// or smtps://')
    .optional(),
  GATEHOUSE_REGISTRATION: z
    .enum(['open', 'closed'], { message: 'GATEHOUSE_REGISTRATION must be open or closed' })
    .optional(),
  METRICS_PORT: port('METRICS_PORT'),
  JWKS_MAX_AGE: seconds('JWKS_MAX_AGE', 300),
  SHUTDOWN_DELAY: seconds('SHUTDOWN_DELAY', 0),
});

function readJson(variable: string, path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError(`${variable}: ${path} is not valid JSON`);
  }
}

function isLocalhost(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
}

/** The demo API is the default resource when no `GATEHOUSE_RESOURCES_FILE` is given. */
export const DEFAULT_RESOURCES: readonly ResourceServerConfig[] = [
  { uri: 'http://localhost:4001', scopes: ['recipes:read', 'recipes:write'] },
];

/**
 * Reads and validates the environment once. Throws {@link ConfigError} with a one-line
 * message naming the variable and what is allowed.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as they do in most shells' `VAR= command`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = issue?.path[0] === undefined ? 'environment' : String(issue.path[0]);
    const message = issue?.message ?? 'invalid value';
    throw new ConfigError(message.startsWith(variable) ? message : `${variable}: ${message}`);
  }
  const e = parsed.data;
  const mode = e.NODE_ENV ?? 'development';
  const listenPort = e.PORT ?? 4000;
  const issuer = (e.ISSUER ?? `http://localhost:${listenPort}`).replace(/\/$/, '');
  const issuerUrl = new URL(issuer);
  if (issuerUrl.search || issuerUrl.hash) throw new ConfigError('ISSUER must not have a query or fragment');

  const redis: Config['redis'] = e.REDIS_CLUSTER_NODES
    ? {
        kind: 'cluster',
        nodes: e.REDIS_CLUSTER_NODES.split(',').map((seed) => {
          const at = seed.lastIndexOf(':');
          return { host: seed.slice(0, at), port: Number(seed.slice(at + 1)) };
        }),
      }
    : e.REDIS_URL
      ? { kind: 'standalone', url: e.REDIS_URL }
      : { kind: 'memory' };

  let resources = DEFAULT_RESOURCES;
  if (e.GATEHOUSE_RESOURCES_FILE) {
    const result = resourceSchema.safeParse(readJson('GATEHOUSE_RESOURCES_FILE', e.GATEHOUSE_RESOURCES_FILE));
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new ConfigError(
        `GATEHOUSE_RESOURCES_FILE: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`,
      );
    }
    resources = result.data.map((r) => ({
      uri: r.uri,
      scopes: r.scopes,
      ...(r.accessTokenTTL ? { accessTokenTTL: r.accessTokenTTL } : {}),
    }));
  }

  if (e.ACCESS_TOKEN_TTL < 1) throw new ConfigError('ACCESS_TOKEN_TTL must be at least 1 second');
  if (e.REFRESH_TOKEN_TTL < e.ACCESS_TOKEN_TTL) {
    throw new ConfigError('REFRESH_TOKEN_TTL must be at least ACCESS_TOKEN_TTL');
  }

  if (mode === 'production') {
    if (redis.kind === 'memory') {
      throw new ConfigError(
        'NODE_ENV=production needs REDIS_URL or REDIS_CLUSTER_NODES (the in-process store loses everything on restart)',
      );
    }
    if (!e.GATEHOUSE_SECRET)
      throw new ConfigError('NODE_ENV=production needs GATEHOUSE_SECRET (at least 32 random characters)');
    if (issuerUrl.protocol !== 'https:' && !isLocalhost(issuerUrl)) {
      throw new ConfigError(`ISSUER must be https in production (got ${issuer})`);
    }
  }

  const longestAccessTokenTTL = Math.max(e.ACCESS_TOKEN_TTL, ...resources.map((r) => r.accessTokenTTL ?? 0));
  return Object.freeze({
    env: mode,
    port: listenPort,
    issuer,
    redis,
    secret: e.GATEHOUSE_SECRET,
    clientsFile: e.GATEHOUSE_CLIENTS_FILE,
    resources: Object.freeze(resources),
    registrationToken: e.GATEHOUSE_REGISTRATION_TOKEN,
    accessTokenTTL: e.ACCESS_TOKEN_TTL,
    longestAccessTokenTTL,
    refreshTokenTTL: e.REFRESH_TOKEN_TTL,
    refreshTokenReuseInterval: e.REFRESH_TOKEN_REUSE_INTERVAL,
    tokenStore: Object.freeze({ revokedTTL: e.REFRESH_TOKEN_TTL, accessTokenTTL: longestAccessTokenTTL }),
    trustedProxyHops: Number(e.TRUST_PROXY ?? 0),
    dpopRequireNonce: e.DPOP_REQUIRE_NONCE === '1',
    smtpUrl: e.SMTP_URL,
    selfRegistration: e.GATEHOUSE_REGISTRATION ?? 'open',
    metricsPort: e.METRICS_PORT,
    jwksMaxAge: e.JWKS_MAX_AGE,
    shutdownDelay: e.SHUTDOWN_DELAY,
  });
}
