import type { Context } from 'koa';

/**
 * The 429 (RFC 6585) of a limiter at an OAuth endpoint: the OAuth error JSON, `Retry-After`, never
 * cached.
 *
 * @example
 * respondTooManyAttemptsJson(ctx, 900, 'invalid_client', 'too many failed client authentication attempts, retry later');
 */
export function respondTooManyAttemptsJson(
  ctx: Context,
  retryAfter: number,
  error: string,
  description: string,
): void {
  ctx.status = 429;
  ctx.set('Retry-After', String(retryAfter));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description };
}
