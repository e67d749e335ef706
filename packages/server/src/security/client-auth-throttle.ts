import { hash } from 'node:crypto';
import type { Context } from 'koa';
import { printableClientId, type SecurityEvent } from '../observability/security-events.ts';
import { admitWhenFree } from './admit-when-free.ts';
import { ExpiringMap } from './expiring-map.ts';
import { limitedAddress } from './limited-address.ts';
import type { LockoutBroadcast } from './lockout-broadcast.ts';
import type { AttemptCheck, RateLimit, RateLimiter } from './rate-limiter.ts';
import { respondTooManyAttemptsJson } from './too-many-attempts.ts';

/** Client authentication failures allowed for one client_id from one IP address in 15 minutes, as for sign-in. */
export const CLIENT_AUTH_FAILURES_PER_CLIENT_AND_IP: RateLimit = { limit: 5, windowSeconds: 15 * 60 };
/** …per IP address, whatever the clients. */
export const CLIENT_AUTH_FAILURES_PER_IP: RateLimit = { limit: 20, windowSeconds: 15 * 60 };

/**
 * How long a credential that authenticated stays known after its last success on this instance, and how many
 * are remembered.
 */
const KNOWN_CREDENTIAL_MS = 10 * 60 * 1000;
const KNOWN_CREDENTIALS = 10_000;
/** How many lockouts this instance remembers for requests it lets through without Redis. */
const REMEMBERED_LOCKOUTS = 10_000;
/** How long a request with an unknown credential waits for attempts in flight (ms). */
const CLIENT_AUTH_WAIT_MS = 2000;

/** The parsed form of a request to one of the provider's endpoints (the lead's form guard shape). */
export interface ClientAuthRequest {
  readonly params: Readonly<Record<string, string | string[] | undefined>>;
}

export interface ClientAuthThrottleOptions {
  /** Receives a `lockout` event (scope `client` or `ip`) when a limit first trips. */
  readonly onSecurityEvent?: ((event: SecurityEvent) => void) | undefined;
  /**
   * Lockouts of every instance: this one announces those it trips and refuses those the others
   * announce. Without it only the lockouts this instance sees are remembered.
   */
  readonly lockouts?: LockoutBroadcast | undefined;
  /** Errors of the lockout subscription (it reconnects by itself). */
  readonly onError?: ((err: unknown) => void) | undefined;
}

/** The throttle as a form-endpoint policy, and the end of its lockout subscription. */
export interface ClientAuthThrottle {
  readonly apply: (ctx: Context, request: ClientAuthRequest, next: () => Promise<void>) => Promise<void>;
  /** Stops watching other instances' lockouts. */
  close(): void;
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

/** A secret or assertion the request presents, and whom it claims to be. */
interface PresentedCredential {
  readonly clientId: string | undefined;
  /** A hash of client id and secret; absent for assertions, which are new on every request. */
  readonly fingerprint: string | undefined;
}

const single = (value: string | string[] | undefined) => (typeof value === 'string' ? value : undefined);

/** A credential's fingerprint: its parts NUL-separated (so ("ab", "c") and ("a", "bc") differ), hashed. */
function fingerprint(text: string): string {
  // The one-shot hash: no Hash object per request (this runs on every authenticated request).
  return hash('sha256', text, 'base64url');
}

/** The `sub` of an RFC 7523 client assertion (unverified: only to name the counter). */
function assertionSubject(assertion: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof payload?.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the request presents to authenticate, the way oidc-provider reads it (one mechanism:
 * a `client_secret`, a Basic header, or a `client_assertion`). `undefined` when it presents
 * none: a public client (RFC 6749 §2.1, `token_endpoint_auth_method: none`) has no secret to
 * guess, so its requests are neither gated nor counted.
 */
function presentedCredential(
  ctx: Context,
  request: ClientAuthRequest,
  remembered: (fingerprint: string) => PresentedCredential | undefined,
): PresentedCredential | undefined {
  const clientIdParam = single(request.params.client_id);
  const secret = single(request.params.client_secret);
  if (secret) {
    return { clientId: clientIdParam, fingerprint: fingerprint(`post\0${clientIdParam ?? ''}\0${secret}`) };
  }
  // Node's lower-case key, not Koa's `get` (which lower-cases the name on every request).
  const authorization = ctx.req.headers.authorization;
  if (authorization) {
    // The header as sent: another encoding of the same secret is merely not recognised.
    const print = fingerprint(`basic\0${authorization.trim()}`);
    // A header seen authenticating names the same client again: no need to decode it.
    return remembered(print) ?? { clientId: basicClientId(authorization), fingerprint: print };
  }
  const assertion = single(request.params.client_assertion);
  if (assertion) return { clientId: clientIdParam ?? assertionSubject(assertion), fingerprint: undefined };
  return undefined;
}

/**
 * Whether the request presents a client credential for oidc-provider to check, read as
 * {@link presentedCredential} reads it: an empty `client_secret` or `client_assertion` is none
 * (the provider treats it as absent, so a public client still gets its answer).
 */
export function presentsClientCredential(ctx: Context, request: ClientAuthRequest): boolean {
  return presentedCredential(ctx, request, () => undefined) !== undefined;
}

function refuse(ctx: Context, retryAfter: number): void {
  respondTooManyAttemptsJson(
    ctx,
    retryAfter,
    'invalid_client',
    'too many failed client authentication attempts, retry later',
  );
}

/**
 * Client-authentication lockout for the provider's form endpoints (`/token`, `/revoke`,
 * `/introspect`, `/device/auth`, `/par`). Failures count per client_id+IP and per IP — never
 * per client from everywhere, which would let anyone lock an application out for all its
 * users — and only for requests that present a secret or assertion.
 *
 * An unknown credential is admitted atomically before the provider evaluates it
 * ({@link RateLimiter.admit}), so a parallel burst evaluates at most 5 secrets per client and
 * address; the rest get `429` + `Retry-After`. A credential that authenticated recently on this
 * instance (remembered as a hash of client id and secret, never the secret) skips Redis
 * entirely: it will authenticate again, nothing is being guessed, and a busy service is never
 * throttled by its own concurrency. It stays known while it keeps authenticating (10 minutes
 * after its last success), since the provider still checks it on every request. No Redis key is
 * even built for it while no lockout is remembered. Lockouts still refuse it, so a locked
 * address cannot use the shortcut to confirm a guess: those this instance trips or is refused
 * with, and, through `lockouts`, those every
 * other instance trips (announced before their refusal is answered) or tripped before this one
 * subscribed (read from the store). While that subscription is down and back, known
 * credentials are forgotten: what was missed is asked of Redis again.
 *
 * `apply` has the shape of a form-endpoint policy, which gets the body already parsed:
 * `(ctx, request, next) => Promise<void>`.
 *
 * @example
 * const throttle = clientAuthThrottle(limiter, { onSecurityEvent, lockouts: store.lockouts });
 * formEndpointGuard([{ paths: FORM_ENDPOINTS, apply: throttle.apply }]);
 * // on shutdown: throttle.close();
 */
export function clientAuthThrottle(
  limiter: RateLimiter,
  options: ClientAuthThrottleOptions = {},
): ClientAuthThrottle {
  const clientIpKey = (id: string, ip: string) => `client-auth:client-ip:${id}:${limitedAddress(ip)}`;
  const ipKey = (ip: string) => `client-auth:ip:${limitedAddress(ip)}`;
  const known = new ExpiringMap<PresentedCredential>(KNOWN_CREDENTIALS);
  const lockouts = new ExpiringMap<true>(REMEMBERED_LOCKOUTS);
  /** When the last lockout this instance remembers ends: until then, known credentials are checked against them. */
  let lockoutsEndAt = 0;
  const rememberLockout = (key: string, until: number) => {
    lockouts.set(key, true, until - Date.now());
    lockoutsEndAt = Math.max(lockoutsEndAt, until);
  };
  /**
   * Whether this instance knows every lockout in force (always, without a broadcast: it knows
   * those it sees). Until then, and after the subscription was lost, no credential skips Redis.
   */
  let lockoutsCurrent = options.lockouts === undefined;
  const stopWatching = options.lockouts?.watch({
    onLockout: ({ key, until }) => {
      if (until > Date.now()) rememberLockout(key, until);
    },
    onReady: () => {
      lockoutsCurrent = true;
    },
    // Lockouts announced while the subscription was down were missed: every credential goes
    // through Redis again until it authenticates there anew.
    onResubscribed: () => {
      lockoutsCurrent = false;
      known.clear();
    },
    onError: options.onError,
  });
  const checksFor = (clientId: string | undefined, ip: string): AttemptCheck[] => {
    const checks: AttemptCheck[] = [{ key: ipKey(ip), limit: CLIENT_AUTH_FAILURES_PER_IP }];
    if (clientId)
      checks.unshift({ key: clientIpKey(clientId, ip), limit: CLIENT_AUTH_FAILURES_PER_CLIENT_AND_IP });
    return checks;
  };
  const lockedFor = (checks: readonly AttemptCheck[]) =>
    Math.max(0, ...checks.map(({ key }) => lockouts.remaining(key)));
  const scopeOf = (key: string) => (key.startsWith('client-auth:ip:') ? 'ip' : 'client');
  /** Whether a credential may pass without Redis: it authenticated here, and this instance knows every lockout. */
  const isKnownHere = (fingerprint: string | undefined) =>
    lockoutsCurrent && fingerprint !== undefined && known.get(fingerprint) !== undefined;

  /** A credential that authenticated here before: no Redis, and no key built while no lockout is remembered. */
  function passKnown(
    ctx: Context,
    credential: PresentedCredential,
    next: () => Promise<void>,
  ): Promise<void> {
    if (Date.now() < lockoutsEndAt) {
      const locked = lockedFor(checksFor(credential.clientId, ctx.ip));
      if (locked > 0) {
        refuse(ctx, Math.ceil(locked / 1000));
        return Promise.resolve();
      }
    }
    return next().then(() => {
      const { fingerprint } = credential;
      if (!fingerprint) return;
      // The secret changed since (or the client went): ask Redis again next time.
      if (ctx.status === 401) known.delete(fingerprint);
      // The provider checked the secret again just now: a credential in use stays known, so a busy service
      // is never sent back through admission (whose few slots its own concurrency could fill) every 10 minutes.
      // Renewed once half its time is gone, not on every request, and only while still known: an entry
      // forgotten meanwhile (the lockout subscription was lost) is not brought back without Redis.
      else if (ctx.status >= 200 && ctx.status < 300) {
        const left = known.remaining(fingerprint);
        if (left > 0 && left < KNOWN_CREDENTIAL_MS / 2)
          known.set(fingerprint, credential, KNOWN_CREDENTIAL_MS);
      }
    });
  }

  /** A credential not known here: admitted atomically in Redis before the provider evaluates it. */
  async function admitUnknown(
    ctx: Context,
    credential: PresentedCredential,
    next: () => Promise<void>,
  ): Promise<void> {
    const { clientId, fingerprint } = credential;
    const checks = checksFor(clientId, ctx.ip);
    const admission = await admitWhenFree(limiter, checks, {
      maxWaitMs: CLIENT_AUTH_WAIT_MS,
      needless: () => isKnownHere(fingerprint),
    });
    // Another request with this credential authenticated while this one waited.
    if (!admission) return passKnown(ctx, credential, next);
    if (!admission.allowed) {
      if (admission.cause === 'locked')
        rememberLockout(admission.key, Date.now() + admission.retryAfter * 1000);
      return refuse(ctx, admission.retryAfter);
    }

    try {
      await next();
    } catch (err) {
      await admission.release().catch(() => {});
      throw err;
    }
    const error = (ctx.body as { error?: unknown } | undefined)?.error;
    if (ctx.status === 401 && error === 'invalid_client') {
      for (const { key, retryAfter } of await admission.failed()) {
        const until = Date.now() + retryAfter * 1000;
        rememberLockout(key, until);
        // Before the refusal is answered: a known credential is refused on every instance from now on.
        await options.lockouts?.announce({ key, until }).catch((err: unknown) => options.onError?.(err));
        options.onSecurityEvent?.({
          type: 'lockout',
          scope: scopeOf(key),
          ip: ctx.ip,
          retryAfterSeconds: retryAfter,
          ...(clientId && scopeOf(key) === 'client' ? { clientId: printableClientId(clientId) } : {}),
        });
      }
      return;
    }
    // Settling a success must not cost the caller its answer: a slot left behind frees itself.
    if (ctx.status >= 200 && ctx.status < 300) {
      if (fingerprint) known.set(fingerprint, credential, KNOWN_CREDENTIAL_MS);
      await admission.succeeded(clientId ? [clientIpKey(clientId, ctx.ip)] : []).catch(() => {});
    } else {
      await admission.release().catch(() => {});
    }
  }

  // Not async: a request without a secret, or with one known here, gets no promise of its own.
  function throttleClientAuthentication(
    ctx: Context,
    request: ClientAuthRequest,
    next: () => Promise<void>,
  ): Promise<void> {
    const credential = presentedCredential(ctx, request, (print) => known.get(print));
    if (!credential) return next();
    return isKnownHere(credential.fingerprint)
      ? passKnown(ctx, credential, next)
      : admitUnknown(ctx, credential, next);
  }

  return { apply: throttleClientAuthentication, close: () => stopWatching?.() };
}
