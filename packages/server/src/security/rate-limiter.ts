import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { rateLimitInFlightKey, rateLimitKey } from '../store/keys.ts';
import type { StoreBackend } from '../store/store-backend.ts';
import { unavailableOnFailure } from '../store/unavailable-on-failure.ts';

export interface RateLimit {
  /** Events allowed in one window. */
  readonly limit: number;
  readonly windowSeconds: number;
}

export interface RateLimitResult {
  /** False once `limit` events were counted in the current window. */
  readonly allowed: boolean;
  /** Whole seconds until the window ends (0 when allowed); the `Retry-After` value. */
  readonly retryAfter: number;
  /** Events counted in the window, this one included for `hit`. */
  readonly count: number;
}

/** A failure counter that {@link RateLimiter.admit} consults, with its limit. */
export interface AttemptCheck {
  readonly key: string;
  readonly limit: RateLimit;
}

/** A check whose failures reached its limit just now: the moment a lockout starts. */
export interface Lockout {
  readonly key: string;
  /** Whole seconds until the failure window ends. */
  readonly retryAfter: number;
}

/** An attempt that holds a slot on every check until it is settled (at most once). */
export interface AdmittedAttempt {
  readonly allowed: true;
  /**
   * The evaluation failed: gives the slots back and counts one failure on every check.
   * Returns the checks this failure locked; exactly one failure per window sees a check trip.
   */
  failed(): Promise<readonly Lockout[]>;
  /** The evaluation succeeded: gives the slots back and forgets the failures of `reset` keys. */
  succeeded(reset?: readonly string[]): Promise<void>;
  /** Gives the slots back, counting nothing (the attempt was no guess, or it broke). */
  release(): Promise<void>;
}

export interface RefusedAttempt {
  readonly allowed: false;
  /**
   * `locked`: the failures alone reached the limit, `retryAfter` is what is left of their window;
   * `busy`: attempts being evaluated right now fill what the failures leave, `retryAfter` is 1.
   */
  readonly cause: 'locked' | 'busy';
  /** The check that refused (the one with the longest wait when several did). */
  readonly key: string;
  readonly retryAfter: number;
}

export type Admission = AdmittedAttempt | RefusedAttempt;

/**
 * Fixed-window counters shared by every instance through Redis. Keys are caller-chosen
 * strings (hash them when they hold personal data); each lives at its own key
 * ({@link rateLimitKey}), one key per counter, so it is cluster-safe. Attempts being
 * evaluated ({@link RateLimiter.admit}) live beside their counter, in a sorted set under the
 * same hash tag ({@link rateLimitInFlightKey}), so one script sees both.
 */
export interface RateLimiter {
  /** Counts one event and says whether it was within the limit. */
  hit(key: string, limit: RateLimit): Promise<RateLimitResult>;
  /** Says whether one more event would be allowed, without counting it. */
  peek(key: string, limit: RateLimit): Promise<RateLimitResult>;
  /** `peek` for several counters at once: one round trip to a standalone Redis. */
  peekAll(checks: readonly AttemptCheck[]): Promise<RateLimitResult[]>;
  /** Forgets the counter (after a successful sign-in, for example). */
  reset(key: string): Promise<void>;
  /**
   * Admits one attempt at a guessable secret (a password, a client secret) before it is
   * evaluated, in one atomic check-and-increment per check: refused when the failures plus
   * the attempts already being evaluated reach the limit, else a slot is taken on every check
   * (given back if another check refuses). A slot not settled (a crashed request) frees
   * itself after {@link IN_FLIGHT_SECONDS}. So a burst evaluates at most `limit` attempts, and
   * failures are counted by settling the attempt: {@link AdmittedAttempt.failed}.
   */
  admit(checks: readonly AttemptCheck[]): Promise<Admission>;
}

/** How long an admitted attempt holds its slot when it is never settled. */
export const IN_FLIGHT_SECONDS = 30;

// INCR and the expiry in one step; the window starts with the first event. PTTL lets the
// answer carry Retry-After without a second round trip.
const HIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { count, ttl }`;

// Admission, atomic over every check it is given. KEYS: failures, in-flight, per check.
// ARGV: slot id, slot lifetime (ms), then each check's limit. Stale slots (crashed requests)
// are dropped first. Answers { 1 } when admitted, { 0, check, ttl } when the failures alone
// reach a limit (the longest wait wins), { 2, check } when only slots in flight are in the way.
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local locked, lockedTtl, busy = 0, -1, 0
for i = 1, #KEYS / 2 do
  local limit = tonumber(ARGV[2 + i])
  redis.call('ZREMRANGEBYSCORE', KEYS[2 * i], '-inf', now)
  local failures = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  if failures >= limit then
    local ttl = redis.call('PTTL', KEYS[2 * i - 1])
    if locked == 0 or ttl > lockedTtl then locked = i; lockedTtl = ttl end
  elseif busy == 0 and failures + redis.call('ZCARD', KEYS[2 * i]) >= limit then
    busy = i
  end
end
if locked > 0 then return { 0, locked, lockedTtl } end
if busy > 0 then return { 2, busy } end
for i = 1, #KEYS / 2 do
  redis.call('ZADD', KEYS[2 * i], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[2 * i], ARGV[2])
end
return { 1 }`;

// Settles an admitted attempt. KEYS as for ADMIT; ARGV: slot id, 'fail' or 'done', then each
// check's window (ms) and whether to forget its failures ('1'). Answers each check's failure
// count and its window's PTTL after a failure, { 0, 0 } otherwise.
const SETTLE = `
local out = {}
for i = 1, #KEYS / 2 do
  local failures = KEYS[2 * i - 1]
  redis.call('ZREM', KEYS[2 * i], ARGV[1])
  if ARGV[2] == 'fail' then
    local count = redis.call('INCR', failures)
    local ttl = redis.call('PTTL', failures)
    if ttl < 0 then redis.call('PEXPIRE', failures, ARGV[1 + 2 * i]); ttl = tonumber(ARGV[1 + 2 * i]) end
    out[i] = { count, ttl }
  else
    if ARGV[2 + 2 * i] == '1' then redis.call('DEL', failures) end
    out[i] = { 0, 0 }
  end
end
return out`;

function result(count: number, ttlMs: number, limit: RateLimit, counted: boolean): RateLimitResult {
  const allowed = counted ? count <= limit.limit : count < limit.limit;
  return { allowed, retryAfter: allowed ? 0 : Math.max(1, Math.ceil(ttlMs / 1000)), count };
}

function seconds(ttlMs: number, limit: RateLimit): number {
  // A counter without an expiry cannot come from these scripts; wait a whole window then.
  return ttlMs < 0 ? limit.windowSeconds : Math.max(1, Math.ceil(ttlMs / 1000));
}

/** What one settlement does: count a failure, or give the slots back (forgetting `reset` keys). */
type Outcome = { readonly failed: true } | { readonly failed: false; readonly reset: ReadonlySet<string> };

/**
 * An admitted attempt over `settle`, which applies an outcome to the checks and answers each
 * one's failure count and window PTTL (after a failure).
 */
function admitted(
  checks: readonly AttemptCheck[],
  settle: (outcome: Outcome) => Promise<readonly (readonly [number, number])[]>,
): AdmittedAttempt {
  let settled = false;
  const once = (outcome: Outcome) => {
    if (settled) throw new Error('an attempt is settled once');
    settled = true;
    return settle(outcome);
  };
  return {
    allowed: true,
    async failed() {
      const counts = await once({ failed: true });
      return checks.flatMap(({ key, limit }, i) => {
        const [count, ttl] = counts[i] ?? [0, 0];
        return count === limit.limit ? [{ key, retryAfter: seconds(ttl, limit) }] : [];
      });
    },
    async succeeded(reset = []) {
      await once({ failed: false, reset: new Set(reset) });
    },
    async release() {
      await once({ failed: false, reset: new Set() });
    },
  };
}

/** Of several refusals, a lockout before a busy slot, and then the longest wait. */
function longestRefusal(refusals: readonly RefusedAttempt[]): RefusedAttempt | undefined {
  return refusals.reduce<RefusedAttempt | undefined>((worst, next) => {
    if (!worst) return next;
    if (worst.cause !== next.cause) return worst.cause === 'locked' ? worst : next;
    return next.retryAfter > worst.retryAfter ? next : worst;
  }, undefined);
}

function redisAdmission(conn: Redis | Cluster): RateLimiter['admit'] {
  const keysOf = (checks: readonly AttemptCheck[]) =>
    checks.flatMap(({ key }) => [rateLimitKey(key), rateLimitInFlightKey(key)]);

  // One script over the given checks: on a standalone Redis all of them at once (atomic across
  // checks); on a Cluster one check per call, since each check has its own hash tag.
  async function admitTogether(checks: readonly AttemptCheck[], slot: string): Promise<Admission> {
    const keys = keysOf(checks);
    const answer = (await unavailableOnFailure(() =>
      conn.eval(
        ADMIT,
        keys.length,
        ...keys,
        slot,
        IN_FLIGHT_SECONDS * 1000,
        ...checks.map((c) => c.limit.limit),
      ),
    )) as [number, number?, number?];
    const [state, index = 1, ttl = -1] = answer;
    const check = checks[index - 1] as AttemptCheck;
    if (state === 0)
      return { allowed: false, cause: 'locked', key: check.key, retryAfter: seconds(ttl, check.limit) };
    if (state === 2) return { allowed: false, cause: 'busy', key: check.key, retryAfter: 1 };
    return admitted(checks, (outcome) => settleTogether(checks, slot, outcome));
  }

  async function settleTogether(
    checks: readonly AttemptCheck[],
    slot: string,
    outcome: Outcome,
  ): Promise<[number, number][]> {
    const keys = keysOf(checks);
    const perCheck = checks.flatMap(({ key, limit }) => [
      limit.windowSeconds * 1000,
      !outcome.failed && outcome.reset.has(key) ? '1' : '0',
    ]);
    return (await unavailableOnFailure(() =>
      conn.eval(SETTLE, keys.length, ...keys, slot, outcome.failed ? 'fail' : 'done', ...perCheck),
    )) as [number, number][];
  }

  return async function admit(checks) {
    const slot = randomUUID();
    if (!conn.isCluster || checks.length <= 1) return admitTogether(checks, slot);
    const answers = await Promise.all(checks.map((check) => admitTogether([check], slot)));
    const refused = longestRefusal(answers.filter((a): a is RefusedAttempt => !a.allowed));
    if (refused) {
      // Give back what the other checks took, so a refused attempt holds nothing.
      await Promise.all(answers.map((a) => (a.allowed ? a.release() : undefined)));
      return refused;
    }
    return admitted(checks, async (outcome) =>
      (await Promise.all(checks.map((check) => settleTogether([check], slot, outcome)))).flat(),
    );
  };
}

function redisLimiter(conn: Redis | Cluster): RateLimiter {
  const limiter: RateLimiter = {
    async hit(key, limit) {
      const [count, ttl] = (await unavailableOnFailure(() =>
        conn.eval(HIT, 1, rateLimitKey(key), limit.windowSeconds * 1000),
      )) as [number, number];
      return result(count, ttl, limit, true);
    },
    async peek(key, limit) {
      const redisKey = rateLimitKey(key);
      const count = Number((await unavailableOnFailure(() => conn.get(redisKey))) ?? 0);
      if (count < limit.limit) return result(count, 0, limit, false);
      return result(count, await unavailableOnFailure(() => conn.pttl(redisKey)), limit, false);
    },
    async peekAll(checks) {
      // A Cluster cannot MGET keys of different slots (each counter has its own hash tag).
      if (conn.isCluster) return Promise.all(checks.map(({ key, limit }) => limiter.peek(key, limit)));
      const keys = checks.map(({ key }) => rateLimitKey(key));
      const counts = await unavailableOnFailure(() => conn.mget(...keys));
      return Promise.all(
        checks.map(async ({ limit }, i) => {
          const count = Number(counts[i] ?? 0);
          if (count < limit.limit) return result(count, 0, limit, false);
          return result(count, await unavailableOnFailure(() => conn.pttl(keys[i] as string)), limit, false);
        }),
      );
    },
    async reset(key) {
      await unavailableOnFailure(() => conn.del(rateLimitKey(key)));
    },
    admit: redisAdmission(conn),
  };
  return limiter;
}

/** In-process counters on `Date.now()`, so frozen clocks move windows in tests. */
function memoryLimiter(): RateLimiter {
  const windows = new Map<string, { count: number; endsAt: number }>();
  /** Slot id → until when it holds, per check key. */
  const inFlight = new Map<string, Map<string, number>>();
  const current = (key: string) => {
    const window = windows.get(key);
    if (window && window.endsAt <= Date.now()) {
      windows.delete(key);
      return undefined;
    }
    return window;
  };
  const slotsOf = (key: string) => {
    const slots = inFlight.get(key);
    if (!slots) return 0;
    for (const [slot, until] of slots) if (until <= Date.now()) slots.delete(slot);
    if (slots.size === 0) inFlight.delete(key);
    return slots.size;
  };
  const count = (key: string, limit: RateLimit) => {
    let window = current(key);
    if (!window) {
      window = { count: 0, endsAt: Date.now() + limit.windowSeconds * 1000 };
      windows.set(key, window);
    }
    window.count += 1;
    return window;
  };
  const limiter: RateLimiter = {
    async hit(key, limit) {
      const window = count(key, limit);
      return result(window.count, window.endsAt - Date.now(), limit, true);
    },
    async peek(key, limit) {
      const window = current(key);
      return result(window?.count ?? 0, window ? window.endsAt - Date.now() : 0, limit, false);
    },
    peekAll(checks) {
      return Promise.all(checks.map(({ key, limit }) => limiter.peek(key, limit)));
    },
    async reset(key) {
      windows.delete(key);
    },
    // Synchronous from the first check to the last slot taken: as atomic as the Redis script.
    async admit(checks) {
      const refusals: RefusedAttempt[] = [];
      for (const { key, limit } of checks) {
        const window = current(key);
        const failures = window?.count ?? 0;
        if (failures >= limit.limit) {
          const retryAfter = seconds(window ? window.endsAt - Date.now() : -1, limit);
          refusals.push({ allowed: false, cause: 'locked', key, retryAfter });
        } else if (failures + slotsOf(key) >= limit.limit) {
          refusals.push({ allowed: false, cause: 'busy', key, retryAfter: 1 });
        }
      }
      const refused = longestRefusal(refusals);
      if (refused) return refused;
      const slot = randomUUID();
      const until = Date.now() + IN_FLIGHT_SECONDS * 1000;
      for (const { key } of checks) {
        const slots = inFlight.get(key) ?? new Map<string, number>();
        slots.set(slot, until);
        inFlight.set(key, slots);
      }
      return admitted(checks, async (outcome) =>
        checks.map(({ key, limit }): [number, number] => {
          inFlight.get(key)?.delete(slot);
          slotsOf(key);
          if (outcome.failed) {
            const window = count(key, limit);
            return [window.count, window.endsAt - Date.now()];
          }
          if (outcome.reset.has(key)) windows.delete(key);
          return [0, 0];
        }),
      );
    },
  };
  return limiter;
}

/**
 * The rate limiter on `backend`; a Redis failure is a `StoreUnavailableError` (503 upstream).
 *
 * @example
 * const limiter = createRateLimiter({ kind: 'redis', conn });
 * const { allowed, retryAfter } = await limiter.hit(`register:ip:${ip}`, { limit: 10, windowSeconds: 3600 });
 * if (!allowed) ctx.set('Retry-After', String(retryAfter));
 */
export function createRateLimiter(backend: StoreBackend): RateLimiter {
  return backend.kind === 'redis' ? redisLimiter(backend.conn) : memoryLimiter();
}
