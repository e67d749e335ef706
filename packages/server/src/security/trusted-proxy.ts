import type { Middleware } from 'koa';

/**
 * Koa's own proxy settings for `hops` trusted proxies: `X-Forwarded-*` are read only when there
 * is at least one, and `ctx.ip` is the `X-Forwarded-For` entry `hops` from the right.
 *
 * A proxy appends the address it saw to whatever `X-Forwarded-For` the client sent, so only the
 * entries the trusted proxies appended are facts; the leftmost one is the client's choice, and a
 * limiter keyed on it counts each made-up address separately.
 *
 * @example
 * const app = new Koa(trustedProxySettings(config.trustedProxyHops));
 */
export function trustedProxySettings(hops: number): { proxy: boolean; maxIpsCount: number } {
  // maxIpsCount 0 means "no limit" to Koa; without a proxy Koa ignores the header anyway.
  return { proxy: hops > 0, maxIpsCount: hops };
}

/** Headers Koa reads one value from: the leftmost, which the client wrote when proxies append. */
const SINGLE_VALUE_HEADERS = ['x-forwarded-proto', 'x-forwarded-host'] as const;

/**
 * Keeps, of `X-Forwarded-Proto` and `X-Forwarded-Host`, only the entry the outermost trusted proxy
 * appended (`hops` from the right, or the leftmost when there are fewer), as Koa's `maxIpsCount`
 * does for `X-Forwarded-For`. Koa itself takes the leftmost entry, which a client can write.
 * Runs before anything reads `ctx.protocol`, `ctx.secure` or `ctx.host`.
 *
 * @example
 * if (hops > 0) app.use(trustedForwardedHeaders(hops));
 */
export function trustedForwardedHeaders(hops: number): Middleware {
  // Not async: every request passes here, and it needs no promise of its own.
  return function keepTrustedForwardedHeaders(ctx, next) {
    for (const name of SINGLE_VALUE_HEADERS) {
      const value = ctx.req.headers[name];
      if (value === undefined) continue;
      const entries = (Array.isArray(value) ? value.join(',') : value).split(',').map((v) => v.trim());
      if (entries.length > 1) ctx.req.headers[name] = entries[Math.max(0, entries.length - hops)] ?? '';
    }
    return next();
  };
}
