import type { FormPolicy } from '../tokens/form-endpoint-guard.ts';
import { admitWhenFree, whileAdmitted } from './admit-when-free.ts';
import { presentsClientCredential } from './client-auth-throttle.ts';
import { limitedAddress } from './limited-address.ts';
import type { Admission, RateLimit, RateLimiter } from './rate-limiter.ts';
import { respondTooManyAttemptsJson } from './too-many-attempts.ts';

/**
 * Device authorizations a public client may start from one address per minute. Each is a
 * device code and its user code kept for 10 minutes (`DeviceCode` TTL): without a limit one
 * address fills Redis with them, as it could with anonymous sessions (the same figure).
 */
export const DEVICE_AUTHORIZATIONS_PER_IP: RateLimit = { limit: 60, windowSeconds: 60 };

/** How long a request waits for others from its address being answered (ms). */
const WAIT_MS = 2000;

/**
 * Limits the device authorizations (RFC 8628 §3.1) that clients without credentials start from
 * one address: {@link DEVICE_AUTHORIZATIONS_PER_IP}, counted as they are issued (a 200) with
 * the limiter's atomic admission, so a parallel burst issues no more than the limit; past it,
 * 429 `temporarily_unavailable` + `Retry-After`. A request the provider refuses (unknown client,
 * bad scope) costs no record and counts nothing. A client that presents a credential is not
 * limited here (the provider refuses a public client's non-empty one): its secret is what the
 * client-authentication lockout guards. Empty credential fields count as none, as the provider
 * reads them, so they do not slip a public client past the limit.
 *
 * @example
 * formEndpointGuard([{ paths: new Set(['/device/auth']), apply: deviceAuthorizationLimit(limiter) }]);
 */
export function deviceAuthorizationLimit(limiter: RateLimiter): FormPolicy {
  return async function limitDeviceAuthorizations(ctx, request, next) {
    if (request.path !== '/device/auth' || presentsClientCredential(ctx, request)) return next();
    const admission = (await admitWhenFree(
      limiter,
      [{ key: `device-authorization:ip:${limitedAddress(ctx.ip)}`, limit: DEVICE_AUTHORIZATIONS_PER_IP }],
      { maxWaitMs: WAIT_MS },
    )) as Admission;
    if (!admission.allowed) {
      respondTooManyAttemptsJson(
        ctx,
        admission.retryAfter,
        'temporarily_unavailable',
        'too many device authorizations from this address, retry later',
      );
      return;
    }
    await whileAdmitted(admission, next);
    // An issued device code is the event this limit counts (the admission's "failure" counter).
    if (ctx.status === 200) await admission.failed();
    else await admission.release();
  };
}
