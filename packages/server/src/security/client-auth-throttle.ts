import type { Context } from 'koa';
import { mostRestrictive } from './login-throttle.ts';
import type { RateLimit, RateLimiter } from './rate-limiter.ts';

/**
 * Client authentication failures allowed for one client_id from one IP address in 15
 * minutes (issue 3: "the same" as sign-in, 5 per account).
 */
export const CLIENT_AUTH_FAILURES_PER_CLIENT_AND_IP: RateLimit = { limit: 5, windowSeconds: 15 * 60 };
/** …per IP address, whatever the clients. */
export const CLIENT_AUTH_FAILURES_PER_IP: RateLimit = { limit: 20, windowSeconds: 15 * 60 };
/**
 * …and per client_id from everywhere. Higher than per-IP on purpose: anyone can send five bad
 * requests naming a client, and a limit of 5 per client would let them lock a whole
 * application (every user's refresh) out for 15 minutes. This one still stops a distributed
 * guess at a weak secret.
 */
export const CLIENT_AUTH_FAILURES_PER_CLIENT: RateLimit = { limit: 100, windowSeconds: 15 * 60 };

/** The parsed form of a request to one of the provider's endpoints (the lead's form guard shape). */
export interface ClientAuthRequest {
  readonly params: Readonly<Record<string, string | string[] | undefined>>;
}

/** RFC 6749 §2.3.1: the Basic credentials are form-urlencoded before base64. */
export function basicClientId(authorization: string): string | undefined {
  const match = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * Client-authentication lockout for the provider's form endpoints (`/token`, `/revoke`,
 * `/introspect`, `/device/auth`, `/par`): a request whose client_id+IP, IP or client_id has
 * too many recent failures is answered `429` + `Retry-After` before the client is
 * authenticated; each `401 invalid_client` the provider answers counts one failure for each. Counters live in the
 * shared limiter (Redis), so every instance sees them.
 *
 * The returned function has the shape of an `inspect` callback of the form-endpoint guard,
 * which has already parsed the body: `(ctx, request, next) => Promise<void>`.
 *
 * @example
 * const throttle = clientAuthThrottle(limiter);
 * formEndpointGuard((ctx, request, next) => throttle(ctx, request, next));
 */
export function clientAuthThrottle(limiter: RateLimiter) {
  const clientKey = (id: string) => `client-auth:client:${id}`;
  const clientIpKey = (id: string, ip: string) => `client-auth:client-ip:${id}:${ip}`;
  const ipKey = (ip: string) => `client-auth:ip:${ip}`;
  return async function throttleClientAuthentication(
    ctx: Context,
    request: ClientAuthRequest,
    next: () => Promise<void>,
  ): Promise<void> {
    const fromBody = request.params.client_id;
    const clientId =
      basicClientId(ctx.get('authorization')) ?? (typeof fromBody === 'string' ? fromBody : undefined);
    const checks = [{ key: ipKey(ctx.ip), limit: CLIENT_AUTH_FAILURES_PER_IP }];
    if (clientId) {
      checks.push(
        { key: clientIpKey(clientId, ctx.ip), limit: CLIENT_AUTH_FAILURES_PER_CLIENT_AND_IP },
        { key: clientKey(clientId), limit: CLIENT_AUTH_FAILURES_PER_CLIENT },
      );
    }
    // Every token request passes here: one MGET on a standalone Redis.
    const gate = mostRestrictive(await limiter.peekAll(checks));
    if (!gate.allowed) {
      ctx.status = 429;
      ctx.set('Retry-After', String(gate.retryAfter));
      ctx.set('Cache-Control', 'no-store');
      ctx.body = {
        error: 'invalid_client',
        error_description: 'too many failed client authentication attempts, retry later',
      };
      return;
    }
    await next();
    const error = (ctx.body as { error?: unknown } | undefined)?.error;
    if (ctx.status === 401 && error === 'invalid_client') {
      await Promise.all([
        limiter.hit(ipKey(ctx.ip), CLIENT_AUTH_FAILURES_PER_IP),
        clientId
          ? limiter.hit(clientIpKey(clientId, ctx.ip), CLIENT_AUTH_FAILURES_PER_CLIENT_AND_IP)
          : undefined,
        clientId ? limiter.hit(clientKey(clientId), CLIENT_AUTH_FAILURES_PER_CLIENT) : undefined,
      ]);
    }
  };
}
