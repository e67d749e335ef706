import { createHash } from 'node:crypto';
import type { RateLimit, RateLimiter, RateLimitResult } from './rate-limiter.ts';

/** Issue 3: after 5 failed sign-ins for one account in 15 minutes, refuse further attempts. */
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

/** The stricter of several answers: refused if any refuses, retry when the last one allows. */
export function mostRestrictive(results: readonly RateLimitResult[]): RateLimitResult {
  const refused = results.filter((r) => !r.allowed);
  if (refused.length === 0)
    return { allowed: true, retryAfter: 0, count: Math.max(0, ...results.map((r) => r.count)) };
  return { allowed: false, retryAfter: Math.max(...refused.map((r) => r.retryAfter)), count: 0 };
}

/**
 * Sign-in lockout: failures are counted per account (unknown emails too, so lockout says
 * nothing about registration) and per IP; a success forgets the account's failures.
 *
 * @example
 * const throttle = createLoginThrottle(limiter);
 * const gate = await throttle.check(email, ctx.ip);
 * if (!gate.allowed) return tooMany(gate.retryAfter);
 */
export function createLoginThrottle(limiter: RateLimiter) {
  const accountKey = (email: string) => `login:account:${emailCounterId(email)}`;
  const ipKey = (ip: string) => `login:ip:${ip}`;
  return {
    async check(email: string, ip: string): Promise<RateLimitResult> {
      return mostRestrictive(
        await Promise.all([
          limiter.peek(accountKey(email), LOGIN_FAILURES_PER_ACCOUNT),
          limiter.peek(ipKey(ip), LOGIN_FAILURES_PER_IP),
        ]),
      );
    },
    async recordFailure(email: string, ip: string): Promise<void> {
      await Promise.all([
        limiter.hit(accountKey(email), LOGIN_FAILURES_PER_ACCOUNT),
        limiter.hit(ipKey(ip), LOGIN_FAILURES_PER_IP),
      ]);
    },
    async recordSuccess(email: string): Promise<void> {
      await limiter.reset(accountKey(email));
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
