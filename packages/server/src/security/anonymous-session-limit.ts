import type { Context, Middleware, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import { respondTooManyAttempts } from '../pages/context.ts';
import { html } from '../pages/html.ts';
import { StoreUnavailableError } from '../store/errors.ts';
import { limitedAddress } from './limited-address.ts';
import type { RateLimit, RateLimiter } from './rate-limiter.ts';

/**
 * Sessions a browser without one may create per address and minute. A person needs one per
 * sign-out or device sign-in (the cookie then carries it); a burst past this is a script
 * filling the store.
 */
export const ANONYMOUS_SESSION_LIMIT: RateLimit = { limit: 60, windowSeconds: 60 };

/**
 * The provider pages that store a session for a visitor without one (their forms' xsrf secret
 * lives in it): the device code form and the sign-out confirmation.
 */
const SESSION_CREATING_PAGES: ReadonlySet<string> = new Set([
  '/device',
  '/session/end',
  '/session/end/confirm',
]);

/** Seconds to wait when this request would store one anonymous session too many, else undefined. */
async function refusal(
  provider: Provider,
  ctx: Context,
  limiter: RateLimiter,
  limit: RateLimit,
): Promise<number | undefined> {
  // The app signs cookies with the provider's keys, so this reads what the provider would.
  const sessionId = ctx.cookies.get(provider.cookieName('session'), { signed: true });
  if (sessionId !== undefined && (await provider.Session.find(sessionId)) !== undefined) return undefined;
  const result = await limiter.hit(`anonymous-session:ip:${limitedAddress(ctx.ip)}`, limit);
  return result.allowed ? undefined : result.retryAfter;
}

export interface AnonymousSessionLimitDeps {
  /** The provider, looked up per request (it is replaced when signing keys rotate). */
  readonly provider: () => Provider;
  readonly limiter: RateLimiter;
  readonly limit?: RateLimit;
}

/**
 * Rate-limits, per client address, requests to the session-creating provider pages that come
 * without a live session: each such request stores a new anonymous session. A request whose
 * signed session cookie names a stored session only re-saves that one and is not counted; a
 * forged, stale or missing cookie is. Over the limit: the 429 page with `Retry-After`.
 *
 * @example
 * app.use(anonymousSessionLimit({ provider: () => host.provider, limiter }));
 */
export function anonymousSessionLimit(deps: AnonymousSessionLimitDeps): Middleware {
  const limit = deps.limit ?? ANONYMOUS_SESSION_LIMIT;
  // Not async: other requests pass straight on, without a promise of their own.
  return function limitAnonymousSessions(ctx, next) {
    if ((ctx.method !== 'GET' && ctx.method !== 'POST') || !SESSION_CREATING_PAGES.has(ctx.path)) {
      return next();
    }
    return limitSessionCreation(ctx, next);
  };

  async function limitSessionCreation(ctx: Context, next: Next): Promise<void> {
    let retryAfter: number | undefined;
    try {
      retryAfter = await refusal(deps.provider(), ctx, deps.limiter, limit);
    } catch (err) {
      // Without the store no session can be saved either; the provider answers the outage
      // on its page as it does for every other request.
      if (!(err instanceof StoreUnavailableError)) throw err;
    }
    if (retryAfter !== undefined) {
      respondTooManyAttempts(ctx, retryAfter, {
        title: 'Please try again later',
        body: html`<p class="lead">Nothing was changed.</p>`,
      });
      return;
    }
    await next();
  }
}
