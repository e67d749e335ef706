import type { Cluster, Redis } from 'ioredis';
import { toStoreError } from '../store/errors.ts';

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

/**
 * Fixed-window counters shared by every instance through Redis. Keys are caller-chosen
 * strings (hash them when they hold personal data); each lives at
 * `gatehouse:ratelimit:{<key>}`, one key per counter, so it is cluster-safe.
 */
export interface RateLimiter {
  /** Counts one event and says whether it was within the limit. */
  hit(key: string, limit: RateLimit): Promise<RateLimitResult>;
  /** Says whether one more event would be allowed, without counting it. */
  peek(key: string, limit: RateLimit): Promise<RateLimitResult>;
  /** `peek` for several counters at once: one round trip to a standalone Redis. */
  peekAll(checks: readonly { key: string; limit: RateLimit }[]): Promise<RateLimitResult[]>;
  /** Forgets the counter (after a successful sign-in, for example). */
  reset(key: string): Promise<void>;
}

export type RateLimiterBackend = { kind: 'redis'; conn: Redis | Cluster } | { kind: 'memory' };

export function rateLimitKey(key: string): string {
  return `gatehouse:ratelimit:{${key}}`;
}

// INCR and the expiry in one step; the window starts with the first event. PTTL lets the
// answer carry Retry-After without a second round trip.
const HIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { count, ttl }`;

function result(count: number, ttlMs: number, limit: RateLimit, counted: boolean): RateLimitResult {
  const allowed = counted ? count <= limit.limit : count < limit.limit;
  return { allowed, retryAfter: allowed ? 0 : Math.max(1, Math.ceil(ttlMs / 1000)), count };
}

/** Redis failures become the store's `StoreUnavailableError` (503 + Retry-After upstream). */
async function unavailableOnFailure<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (err) {
    throw toStoreError(err);
  }
}

function redisLimiter(conn: Redis | Cluster): RateLimiter {
  const limiter: RateLimiter = {
    async hit(key, limit) {
      const [count, ttl] = (await unavailableOnFailure(
        conn.eval(HIT, 1, rateLimitKey(key), limit.windowSeconds * 1000),
      )) as [number, number];
      return result(count, ttl, limit, true);
    },
    async peek(key, limit) {
      const redisKey = rateLimitKey(key);
      // Every token request peeks: one GET on the hot path, the TTL only for a locked key.
      const count = Number((await unavailableOnFailure(conn.get(redisKey))) ?? 0);
      if (count < limit.limit) return result(count, 0, limit, false);
      return result(count, await unavailableOnFailure(conn.pttl(redisKey)), limit, false);
    },
    async peekAll(checks) {
      // A Cluster cannot MGET keys of different slots (each counter has its own hash tag).
      if (conn.isCluster) return Promise.all(checks.map(({ key, limit }) => limiter.peek(key, limit)));
      const keys = checks.map(({ key }) => rateLimitKey(key));
      const counts = await unavailableOnFailure(conn.mget(...keys));
      return Promise.all(
        checks.map(async ({ limit }, i) => {
          const count = Number(counts[i] ?? 0);
          if (count < limit.limit) return result(count, 0, limit, false);
          return result(count, await unavailableOnFailure(conn.pttl(keys[i] as string)), limit, false);
        }),
      );
    },
    async reset(key) {
      await unavailableOnFailure(conn.del(rateLimitKey(key)));
    },
  };
  return limiter;
}

/** In-process counters on `Date.now()`, so frozen clocks move windows in tests. */
function memoryLimiter(): RateLimiter {
  const windows = new Map<string, { count: number; endsAt: number }>();
  const current = (key: string) => {
    const window = windows.get(key);
    if (window && window.endsAt <= Date.now()) {
      windows.delete(key);
      return undefined;
    }
    return window;
  };
  const limiter: RateLimiter = {
    async hit(key, limit) {
      let window = current(key);
      if (!window) {
        window = { count: 0, endsAt: Date.now() + limit.windowSeconds * 1000 };
        windows.set(key, window);
      }
      window.count += 1;
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
  };
  return limiter;
}

/**
 * @example
 * const limiter = createRateLimiter({ kind: 'redis', conn });
 * const { allowed, retryAfter } = await limiter.hit(`register:ip:${ip}`, { limit: 10, windowSeconds: 3600 });
 * if (!allowed) ctx.set('Retry-After', String(retryAfter));
 */
export function createRateLimiter(backend: RateLimiterBackend): RateLimiter {
  return backend.kind === 'redis' ? redisLimiter(backend.conn) : memoryLimiter();
}
