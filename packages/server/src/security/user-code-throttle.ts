import type { Context, Middleware, Next } from 'koa';
import type { SecurityEvent } from '../observability/security-events.ts';
import { respondTooManyAttempts } from '../pages/context.ts';
import { html } from '../pages/html.ts';
import { admitWhenFree } from './admit-when-free.ts';
import type { Admission, RateLimit, RateLimiter } from './rate-limiter.ts';

/**
 * RFC 8628 §5.1: wrong device user codes from one address in 15 minutes before it is refused. A
 * person mistypes a code a few times; a script guessing the 20^8 codes needs millions of tries.
 */
export const USER_CODE_FAILURES_PER_IP: RateLimit = { limit: 10, windowSeconds: 15 * 60 };

/** How long a code entry waits for other entries from its address being checked (ms). */
const USER_CODE_WAIT_MS = 2000;

/** The device code form, where oidc-provider looks a user code up. */
const CODE_VERIFICATION_PATH = '/device';

const REFUSED_STATE = Symbol('gatehouse.userCodeRefused');

/**
 * For the device flow's code page (`userCodeInputSource`): the user code just entered was not a
 * live one (unknown, expired or already used), so the entry counts as a failed guess.
 */
export function markUserCodeRefused(ctx: { state: unknown }): void {
  (ctx.state as { [REFUSED_STATE]?: true })[REFUSED_STATE] = true;
}

/**
 * RFC 8628 §5.1 (user code brute forcing): every `POST /device` that carries a user code is
 * admitted atomically before oidc-provider looks the code up ({@link RateLimiter.admit}), and
 * counted as a failure when the provider answers that the code is not a live one. So a burst of
 * parallel guesses from one address, over as many sessions as it likes, has at most
 * {@link USER_CODE_FAILURES_PER_IP} codes looked up in 15 minutes; the rest, a right code included,
 * get the 429 page with `Retry-After`. A right code (or the confirmation that follows it) counts
 * nothing. Put it after the form has been read (`providerFormLimit`), before the provider.
 *
 * @example
 * compose([providerFormLimit(), userCodeThrottle({ limiter }), providerHost.middleware]);
 */
export function userCodeThrottle(deps: {
  readonly limiter: RateLimiter;
  readonly onSecurityEvent?: ((event: SecurityEvent) => void) | undefined;
}): Middleware {
  // Not async: other requests pass straight on, without a promise of their own.
  return function throttleUserCodes(ctx, next) {
    if (ctx.method !== 'POST' || ctx.path !== CODE_VERIFICATION_PATH) return next();
    const userCode = userCodeOf(ctx);
    return userCode ? admitCodeEntry(ctx, next, deps) : next();
  };
}

/** The user code of a form `providerFormLimit` has read (an empty one is no guess). */
function userCodeOf(ctx: Context): string | undefined {
  const body = (ctx.request as { body?: unknown }).body;
  const code = typeof body === 'string' ? new URLSearchParams(body).get('user_code') : undefined;
  return code?.trim() ? code : undefined;
}

async function admitCodeEntry(
  ctx: Context,
  next: Next,
  deps: Parameters<typeof userCodeThrottle>[0],
): Promise<void> {
  const key = `user-code:ip:${ctx.ip}`;
  const admission = (await admitWhenFree(deps.limiter, [{ key, limit: USER_CODE_FAILURES_PER_IP }], {
    maxWaitMs: USER_CODE_WAIT_MS,
  })) as Admission;
  if (!admission.allowed) {
    respondTooManyAttempts(ctx, admission.retryAfter, {
      title: 'Connect a device',
      body: html`<p class="lead">Too many codes were entered from this network. Nothing was connected.</p>`,
    });
    return;
  }
  let settled = false;
  try {
    await next();
    settled = true;
    if ((ctx.state as { [REFUSED_STATE]?: true })[REFUSED_STATE]) {
      for (const { retryAfter } of await admission.failed()) {
        deps.onSecurityEvent?.({
          type: 'lockout',
          scope: 'user_code',
          ip: ctx.ip,
          retryAfterSeconds: retryAfter,
        });
      }
    } else {
      await admission.release();
    }
  } finally {
    // The provider broke: the slot goes back, nothing is counted (it also lapses on its own).
    if (!settled) await admission.release().catch(() => {});
  }
}
