import { createHash } from 'node:crypto';
import { admitWhenFree } from './admit-when-free.ts';
import { limitedAddress } from './limited-address.ts';
import type { Admission, RateLimit, RateLimiter } from './rate-limiter.ts';

/** After 5 failed sign-ins for one account in 15 minutes, refuse further attempts. */
export const LOGIN_FAILURES_PER_ACCOUNT: RateLimit = { limit: 5, windowSeconds: 15 * 60 };
/** …and after 20 failures from one IP address, whatever the accounts. */
export const LOGIN_FAILURES_PER_IP: RateLimit = { limit: 20, windowSeconds: 15 * 60 };

/** Registrations per IP address (sign-up spam). */
export const REGISTRATIONS_PER_IP: RateLimit = { limit: 10, windowSeconds: 60 * 60 };
/** New confirmation links per IP address and per email address (mail bombing). */
export const VERIFICATION_RESENDS_PER_IP: RateLimit = { limit: 20, windowSeconds: 15 * 60 };
export const VERIFICATION_RESENDS_PER_EMAIL: RateLimit = { limit: 5, windowSeconds: 60 * 60 };
/** Reset emails per IP address and per email address (mail bombing). */
export const PASSWORD_RESETS_PER_IP: RateLimit = { limit: 20, windowSeconds: 15 * 60 };
export const PASSWORD_RESETS_PER_EMAIL: RateLimit = { limit: 5, windowSeconds: 60 * 60 };

/** Counter keys never hold an email in clear. */
export function emailCounterId(email: string): string {
  return createHash('sha256').update(email.normalize('NFC').trim().toLowerCase()).digest('base64url');
}

/** What a sign-in lockout counts: attempts on one account, or from one address. */
export type LoginScope = 'account' | 'ip';

/** A sign-in attempt admitted before its password is verified; settle it once. */
export interface LoginAttempt {
  readonly allowed: true;
  /** A wrong password (or unknown email): counted; returns the scopes this failure locked. */
  failed(): Promise<readonly { readonly scope: LoginScope; readonly retryAfter: number }[]>;
  /** Signed in: the account's failures are forgotten (not the address's). */
  succeeded(): Promise<void>;
  /** Neither (a disabled account, a broken request): nothing is counted. */
  release(): Promise<void>;
}

export interface RefusedLogin {
  readonly allowed: false;
  /** `locked`: too many failures; `busy`: other attempts being checked fill the limit. */
  readonly cause: 'locked' | 'busy';
  readonly scope: LoginScope;
  readonly retryAfter: number;
}

/** How long a sign-in waits for attempts in flight on its account or address (ms). */
const LOGIN_WAIT_MS = 2000;

/**
 * Sign-in lockout: failures are counted per account (unknown emails too, so lockout says
 * nothing about registration) and per IP; a success forgets the account's failures. Each
 * attempt is admitted atomically before argon2 runs ({@link RateLimiter.admit}), so a burst of
 * parallel guesses evaluates at most 5 passwords per account and 20 per address.
 *
 * @example
 * const throttle = createLoginThrottle(limiter);
 * const attempt = await throttle.admit(email, ctx.ip);
 * if (!attempt.allowed) return tooMany(attempt.retryAfter);
 * const check = await accounts.verifyPassword(email, password);
 * check.ok ? await attempt.succeeded() : await attempt.failed();
 */
export function createLoginThrottle(limiter: RateLimiter) {
  const accountKey = (email: string) => `login:account:${emailCounterId(email)}`;
  const ipKey = (ip: string) => `login:ip:${limitedAddress(ip)}`;
  return {
    async admit(email: string, ip: string): Promise<LoginAttempt | RefusedLogin> {
      const account = accountKey(email);
      const scopeOf = (key: string): LoginScope => (key === account ? 'account' : 'ip');
      const admission = (await admitWhenFree(
        limiter,
        [
          { key: account, limit: LOGIN_FAILURES_PER_ACCOUNT },
          { key: ipKey(ip), limit: LOGIN_FAILURES_PER_IP },
        ],
        { maxWaitMs: LOGIN_WAIT_MS },
      )) as Admission;
      if (!admission.allowed) {
        const { cause, key, retryAfter } = admission;
        return { allowed: false, cause, scope: scopeOf(key), retryAfter };
      }
      return {
        allowed: true,
        async failed() {
          const locked = await admission.failed();
          return locked.map(({ key, retryAfter }) => ({ scope: scopeOf(key), retryAfter }));
        },
        succeeded: () => admission.succeeded([account]),
        release: () => admission.release(),
      };
    },
    /** Forgets the account's failures (a password reset proves the mailbox). */
    async recordSuccess(email: string): Promise<void> {
      await limiter.reset(accountKey(email));
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
