import type { Middleware } from 'koa';
import { respondTooManyAttempts } from '../pages/context.ts';
import { html } from '../pages/html.ts';
import { StoreUnavailableError } from '../store/errors.ts';
import { limitedAddress } from './limited-address.ts';
import type { RateLimit, RateLimiter } from './rate-limiter.ts';

/**
 * Authorization requests one address may send per minute. Each that needs the user (sign-in or
 * consent) stores an interaction for `INTERACTION_TTL` (an hour) whoever sent it: a public
 * client's id and redirect URI are all it takes. 300 a minute is five sign-ins started every
 * second from one address (a large office behind one NAT, or one IPv6 /64); a script past it
 * holds at most 18,000 interactions, about 12 MB of Redis, per address.
 */
export const AUTHORIZATION_REQUESTS_PER_IP: RateLimit = { limit: 300, windowSeconds: 60 };

/** `prompt=none` (OpenID Connect Core §3.1.2.1) never shows a page, so it never stores an interaction. */
const SILENT = /(?:^|\s)none(?:\s|$)/;

/**
 * Rate-limits, per client address ({@link limitedAddress}), the authorization requests that may
 * store an interaction: `GET /authorize` (and `POST`, which oidc-provider serves only with
 * `enableHttpPostMethods`), except `prompt=none` ones in the query
 * (silent session checks, answered with a code or `login_required` and nothing stored, so an
 * app's background checks never use up a person's sign-ins). The count is one atomic increment,
 * so a parallel burst gets no more than the limit. Past it: the 429 page with `Retry-After`,
 * before the provider reads the request.
 *
 * @example
 * app.use(authorizationRequestLimit(limiter));
 * app.use(providerHost.middleware);
 */
export function authorizationRequestLimit(
  limiter: RateLimiter,
  limit: RateLimit = AUTHORIZATION_REQUESTS_PER_IP,
): Middleware {
  // Not async: other requests pass straight on, without a promise of their own.
  return function limitAuthorizationRequests(ctx, next) {
    if (ctx.path !== '/authorize' || (ctx.method !== 'GET' && ctx.method !== 'POST')) return next();
    const prompt = ctx.method === 'GET' ? ctx.query.prompt : undefined;
    if (typeof prompt === 'string' && SILENT.test(prompt)) return next();
    return limiter.hit(`authorization-request:ip:${limitedAddress(ctx.ip)}`, limit).then(
      (result) => {
        if (result.allowed) return next();
        respondTooManyAttempts(ctx, result.retryAfter, {
          title: 'Please try again later',
          body: html`<p class="lead">Too many sign-ins were started from your network. Nothing was changed.</p>`,
        });
      },
      (err: unknown) => {
        // Without the store no interaction can be saved either; the provider answers the outage.
        if (err instanceof StoreUnavailableError) return next();
        throw err;
      },
    );
  };
}
