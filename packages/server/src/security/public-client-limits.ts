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

/**
 * Pushed authorization requests (RFC 9126) of public clients from one address per minute, as
 * many as the sign-ins one address may start at `/authorize`. Each is a request object kept
 * for 60 seconds: one address holds at most this many at a time.
 */
export const PUSHED_AUTHORIZATIONS_PER_IP: RateLimit = { limit: 300, windowSeconds: 60 };

/** What each limited endpoint stores for anyone who names a public client, and how it says it did. */
const LIMITED_ENDPOINTS: ReadonlyMap<
  string,
  { readonly counter: string; readonly limit: RateLimit; readonly stored: number; readonly what: string }
> = new Map([
  [
    '/device/auth',
    {
      counter: 'device-authorization',
      limit: DEVICE_AUTHORIZATIONS_PER_IP,
      stored: 200,
      what: 'device authorizations',
    },
  ],
  [
    '/par',
    {
      counter: 'pushed-authorization',
      limit: PUSHED_AUTHORIZATIONS_PER_IP,
      stored: 201,
      what: 'pushed authorization requests',
    },
  ],
]);

/** How long a request waits for others from its address being answered (ms). */
const WAIT_MS = 2000;

/**
 * Limits the records that clients without credentials make the provider store from one address:
 * device authorizations (RFC 8628 §3.1, {@link DEVICE_AUTHORIZATIONS_PER_IP}) and pushed
 * authorization requests (RFC 9126, {@link PUSHED_AUTHORIZATIONS_PER_IP}). Each is counted as it
 * is stored (the provider's 200 or 201) with the limiter's atomic admission, so a parallel burst
 * stores no more than the limit; past it, 429 `temporarily_unavailable` + `Retry-After`. A
 * request the provider refuses (unknown client, bad scope) stores nothing and counts nothing. A
 * client that presents a credential is not limited here (the provider refuses a public client's
 * non-empty one): its secret is what the client-authentication lockout guards. Empty credential
 * fields count as none, as the provider reads them, so they do not slip a public client past.
 *
 * @example
 * formEndpointGuard([{ paths: new Set(['/device/auth', '/par']), apply: publicClientLimits(limiter) }]);
 */
export function publicClientLimits(limiter: RateLimiter): FormPolicy {
  return async function limitPublicClientRecords(ctx, request, next) {
    const endpoint = LIMITED_ENDPOINTS.get(request.path);
    if (endpoint === undefined || presentsClientCredential(ctx, request)) return next();
    const admission = (await admitWhenFree(
      limiter,
      [{ key: `${endpoint.counter}:ip:${limitedAddress(ctx.ip)}`, limit: endpoint.limit }],
      { maxWaitMs: WAIT_MS },
    )) as Admission;
    if (!admission.allowed) {
      respondTooManyAttemptsJson(
        ctx,
        admission.retryAfter,
        'temporarily_unavailable',
        `too many ${endpoint.what} from this address, retry later`,
      );
      return;
    }
    await whileAdmitted(admission, next);
    // A stored record is the event this limit counts (the admission's "failure" counter).
    if (ctx.status === endpoint.stored) await admission.failed();
    else await admission.release();
  };
}
