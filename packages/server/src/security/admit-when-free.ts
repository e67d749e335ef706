import { setTimeout as sleep } from 'node:timers/promises';
import type { Admission, AdmittedAttempt, AttemptCheck, RateLimiter } from './rate-limiter.ts';

/** The waits between asks while attempts in flight fill the limit (ms). */
const BACKOFF_MS = [20, 40, 80, 160, 250];

export interface AdmitWhenFreeOptions {
  /** How long to keep asking while the only refusal is `busy`; the last refusal is returned after. */
  readonly maxWaitMs: number;
  /** Asked before each new ask: true ends the wait with `undefined` (no slot is needed any more). */
  readonly needless?: () => boolean;
}

/**
 * {@link RateLimiter.admit}, waiting while the refusal is only `busy`. Attempts in flight end
 * within moments (one argon2 verification, one secret comparison) and then either free their
 * slot or lock the check, so legitimate parallel requests queue briefly instead of being
 * refused, while a burst still evaluates at most `limit` attempts: the waiting ones are
 * refused `locked` as soon as the failures reach the limit.
 *
 * @example
 * const admission = await admitWhenFree(limiter, [{ key: `login:ip:${ip}`, limit }], { maxWaitMs: 2000 });
 * if (admission && !admission.allowed) ctx.set('Retry-After', String(admission.retryAfter));
 */
export async function admitWhenFree(
  limiter: RateLimiter,
  checks: readonly AttemptCheck[],
  options: AdmitWhenFreeOptions,
): Promise<Admission | undefined> {
  const giveUpAt = Date.now() + options.maxWaitMs;
  for (let round = 0; ; round++) {
    const admission = await limiter.admit(checks);
    if (admission.allowed || admission.cause === 'locked') return admission;
    const wait = BACKOFF_MS[Math.min(round, BACKOFF_MS.length - 1)] as number;
    if (Date.now() + wait > giveUpAt) return admission;
    await sleep(wait);
    if (options.needless?.()) return undefined;
  }
}

/**
 * Runs what an admitted attempt was admitted for. If it throws (the provider broke), the slot
 * goes back uncounted before the error goes on; otherwise the caller settles the attempt.
 *
 * @example
 * await whileAdmitted(admission, next);
 * ctx.status === 401 ? await admission.failed() : await admission.release();
 */
export async function whileAdmitted(admission: AdmittedAttempt, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    await admission.release().catch(() => {});
    throw err;
  }
}
