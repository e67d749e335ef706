import type { Context, Middleware, Next } from 'koa';
import type { SecurityEvent } from '../observability/security-events.ts';
import { respondTooManyAttempts } from '../pages/context.ts';
import { html } from '../pages/html.ts';
import { admitWhenFree, whileAdmitted } from './admit-when-free.ts';
import { limitedAddress } from './limited-address.ts';
import type { Admission, RateLimit, RateLimiter } from './rate-limiter.ts';
import { respondTooManyAttemptsJson } from './too-many-attempts.ts';

/**
 * RFC 8628 §5.1: wrong device user codes from one address in 15 minutes before it is refused. A
 * person mistypes a code a few times; a script guessing the 20^8 codes needs millions of tries.
 */
export const USER_CODE_FAILURES_PER_IP: RateLimit = { limit: 10, windowSeconds: 15 * 60 };

/**
 * Wrong initial access tokens at RFC 7591 registration from one address in 15 minutes. The
 * operator chooses that token (16 characters at least): a guessed one registers clients under
 * the server's name.
 */
export const REGISTRATION_TOKEN_FAILURES_PER_IP: RateLimit = { limit: 10, windowSeconds: 15 * 60 };

/** How long a guess waits for other guesses from its address being checked (ms). */
const GUESS_WAIT_MS = 2000;

/** The device code form, where oidc-provider looks a user code up. */
const CODE_VERIFICATION_PATH = '/device';
/** RFC 7591 registration, where oidc-provider checks the initial access token. */
const REGISTRATION_PATH = '/register/client';

const USER_CODE_REFUSED = Symbol('gatehouse.userCodeRefused');

export interface GuessThrottleDeps {
  readonly limiter: RateLimiter;
  readonly onSecurityEvent?: ((event: SecurityEvent) => void) | undefined;
}

/** One kind of guessable value: where it is counted, and how its answers read. */
interface GuessKind {
  readonly scope: 'user_code' | 'registration_token';
  readonly limit: RateLimit;
  /** Answers a request refused before the provider saw it. */
  refuse(ctx: Context, retryAfter: number): void;
  /** Once the provider answered: the value was wrong (a failed guess). */
  wasWrong(ctx: Context): boolean;
}

/**
 * For the device flow's code page (`userCodeInputSource`): the user code just entered was not a
 * live one (unknown, expired or already used), so the entry counts as a failed guess.
 */
export function markUserCodeRefused(ctx: { state: unknown }): void {
  (ctx.state as { [USER_CODE_REFUSED]?: true })[USER_CODE_REFUSED] = true;
}

const USER_CODE: GuessKind = {
  scope: 'user_code',
  limit: USER_CODE_FAILURES_PER_IP,
  refuse(ctx, retryAfter) {
    respondTooManyAttempts(ctx, retryAfter, {
      title: 'Connect a device',
      body: html`<p class="lead">Too many codes were entered from this network. Nothing was connected.</p>`,
    });
  },
  wasWrong: (ctx) => (ctx.state as { [USER_CODE_REFUSED]?: true })[USER_CODE_REFUSED] === true,
};

const REGISTRATION_TOKEN: GuessKind = {
  scope: 'registration_token',
  limit: REGISTRATION_TOKEN_FAILURES_PER_IP,
  refuse(ctx, retryAfter) {
    respondTooManyAttemptsJson(
      ctx,
      retryAfter,
      'invalid_token',
      'too many failed registration attempts from this address, retry later',
    );
  },
  // RFC 6750 §3.1 as oidc-provider answers a wrong or missing initial access token.
  wasWrong: (ctx) => ctx.status === 401,
};

/**
 * Guessable values at oidc-provider's own endpoints, each counted per client address with the
 * limiter's atomic admission ({@link RateLimiter.admit}), so a burst of parallel guesses, over as
 * many sessions as it likes, gets no more answers than the limit; the rest, a right value
 * included, are refused with 429 and `Retry-After`, and one `lockout` event is logged per window.
 * A right value counts nothing. Put it after the form has been read (`providerFormLimit`),
 * before the provider.
 * - RFC 8628 §5.1: a `POST /device` with a user code, counted when the provider's code page says
 *   the code is not a live one ({@link markUserCodeRefused}): {@link USER_CODE_FAILURES_PER_IP}.
 * - RFC 7591: a `POST /register/client` with an initial access token, counted when the provider
 *   answers 401: {@link REGISTRATION_TOKEN_FAILURES_PER_IP}.
 *
 * @example
 * compose([providerFormLimit(), guessThrottles({ limiter }), providerHost.middleware]);
 */
export function guessThrottles(deps: GuessThrottleDeps): Middleware {
  // Not async: other requests pass straight on, without a promise of their own.
  return function throttleGuesses(ctx, next) {
    if (ctx.method !== 'POST') return next();
    if (ctx.path === CODE_VERIFICATION_PATH && userCodeOf(ctx)) return admitGuess(ctx, next, USER_CODE, deps);
    // Without a token there is nothing to guess (the provider answers 401 all the same).
    if (ctx.path === REGISTRATION_PATH && ctx.req.headers.authorization)
      return admitGuess(ctx, next, REGISTRATION_TOKEN, deps);
    return next();
  };
}

/** The user code of a form `providerFormLimit` has read (an empty one is no guess). */
function userCodeOf(ctx: Context): string | undefined {
  const body = (ctx.request as { body?: unknown }).body;
  const code = typeof body === 'string' ? new URLSearchParams(body).get('user_code') : undefined;
  return code?.trim() ? code : undefined;
}

async function admitGuess(ctx: Context, next: Next, kind: GuessKind, deps: GuessThrottleDeps): Promise<void> {
  const key = `${kind.scope.replace('_', '-')}:ip:${limitedAddress(ctx.ip)}`;
  const admission = (await admitWhenFree(deps.limiter, [{ key, limit: kind.limit }], {
    maxWaitMs: GUESS_WAIT_MS,
  })) as Admission;
  if (!admission.allowed) {
    kind.refuse(ctx, admission.retryAfter);
    return;
  }
  await whileAdmitted(admission, next);
  if (!kind.wasWrong(ctx)) return admission.release();
  for (const { retryAfter } of await admission.failed()) {
    deps.onSecurityEvent?.({ type: 'lockout', scope: kind.scope, ip: ctx.ip, retryAfterSeconds: retryAfter });
  }
}
