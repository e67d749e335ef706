import {
  type RedisClusterProcess,
  type RedisProcess,
  startRedis,
  startRedisCluster,
} from '@gatehouse/testkit';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createLoginThrottle,
  createRateLimiter,
  IN_FLIGHT_SECONDS,
  type RateLimiter,
} from '../../src/security/index.ts';

let redis: RedisProcess;
let cluster: RedisClusterProcess;
let redisConn: Redis;
let clusterConn: Cluster;

beforeAll(async () => {
  [redis, cluster] = await Promise.all([startRedis(), startRedisCluster(3)]);
  redisConn = new Redis(redis.url);
  clusterConn = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })));
});

afterAll(async () => {
  redisConn?.disconnect();
  clusterConn?.disconnect();
  await Promise.all([redis?.cleanup(), cluster?.cleanup()]);
});

afterEach(() => vi.useRealTimers());

let n = 0;
const fresh = (label: string) => `${label}-${Date.now()}-${n++}`;

describe.each([
  { name: 'memory', limiter: () => createRateLimiter({ kind: 'memory' }) },
  { name: 'redis', limiter: () => createRateLimiter({ kind: 'redis', conn: redisConn }) },
  { name: 'redis cluster', limiter: () => createRateLimiter({ kind: 'redis', conn: clusterConn }) },
])('rate limiter on $name', ({ limiter: make }) => {
  it('allows `limit` events per window and then tells how long to wait', async () => {
    const limiter: RateLimiter = make();
    const key = fresh('k');
    const limit = { limit: 3, windowSeconds: 900 };
    for (let i = 0; i < 3; i++) expect((await limiter.hit(key, limit)).allowed).toBe(true);
    const refused = await limiter.hit(key, limit);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfter).toBeGreaterThan(0);
    expect(refused.retryAfter).toBeLessThanOrEqual(900);
    expect((await limiter.peek(key, limit)).allowed).toBe(false);
    await limiter.reset(key);
    expect((await limiter.peek(key, limit)).allowed).toBe(true);
  });

  it('peeks at several counters at once, each with its own limit and Retry-After, counting nothing', async () => {
    const limiter: RateLimiter = make();
    const [locked, open, unseen] = [fresh('a'), fresh('b'), fresh('c')];
    const limit = { limit: 2, windowSeconds: 600 };
    for (let i = 0; i < 2; i++) await limiter.hit(locked, limit);
    await limiter.hit(open, limit);
    const checks = [
      { key: locked, limit },
      { key: open, limit },
      { key: unseen, limit: { limit: 1, windowSeconds: 60 } },
    ];
    const results = await limiter.peekAll(checks);
    expect(results.map(({ allowed, count }) => ({ allowed, count }))).toEqual([
      { allowed: false, count: 2 },
      { allowed: true, count: 1 },
      { allowed: true, count: 0 },
    ]);
    expect(results[0]?.retryAfter).toBeGreaterThan(0);
    expect(results[0]?.retryAfter).toBeLessThanOrEqual(600);
    expect(await limiter.peekAll(checks)).toEqual(
      results.map((r) => ({ ...r, retryAfter: expect.any(Number) })),
    );
  });

  it('admits at most `limit` attempts of a parallel burst, then locks once their failures are counted', async () => {
    const limiter: RateLimiter = make();
    const key = fresh('burst');
    const limit = { limit: 3, windowSeconds: 600 };
    const burst = await Promise.all(Array.from({ length: 12 }, () => limiter.admit([{ key, limit }])));
    const admitted = burst.filter((a) => a.allowed);
    expect(admitted).toHaveLength(3);
    // Only attempts in flight are in the way: worth retrying in a second.
    expect(burst.filter((a) => !a.allowed)).toEqual(
      Array(9).fill({ allowed: false, cause: 'busy', key, retryAfter: 1 }),
    );
    const tripped = await Promise.all(admitted.map((a) => (a.allowed ? a.failed() : [])));
    // Exactly one failure sees the limit reached: the lockout starts once.
    expect(tripped.flat()).toEqual([{ key, retryAfter: expect.any(Number) }]);
    const locked = await limiter.admit([{ key, limit }]);
    expect(locked).toMatchObject({ allowed: false, cause: 'locked', key });
    expect(locked.allowed === false && locked.retryAfter).toBeGreaterThan(1);
    expect(locked.allowed === false && locked.retryAfter).toBeLessThanOrEqual(600);
    expect((await limiter.peek(key, limit)).count).toBe(3);
  });

  it('takes nothing when one check refuses, and gives slots back on release and success', async () => {
    const limiter: RateLimiter = make();
    const [open, locked] = [fresh('open'), fresh('locked')];
    const limit = { limit: 2, windowSeconds: 600 };
    for (let i = 0; i < 2; i++) await limiter.hit(locked, limit);
    const refused = await Promise.all(
      Array.from({ length: 5 }, () =>
        limiter.admit([
          { key: open, limit },
          { key: locked, limit },
        ]),
      ),
    );
    expect(refused.every((a) => !a.allowed && a.cause === 'locked' && a.key === locked)).toBe(true);
    const first = await limiter.admit([{ key: open, limit }]);
    const second = await limiter.admit([{ key: open, limit }]);
    expect([first.allowed, second.allowed]).toEqual([true, true]);
    expect((await limiter.admit([{ key: open, limit }])).allowed).toBe(false);
    if (first.allowed) await first.release();
    if (second.allowed) await second.failed();
    const third = await limiter.admit([{ key: open, limit }]);
    expect(third.allowed).toBe(true);
    if (third.allowed) await third.succeeded([open]);
    expect((await limiter.peek(open, limit)).count).toBe(0);
    expect(await limiter.admit([{ key: open, limit }])).toMatchObject({ allowed: true });
  });

  it('locks an account after 5 failures and an IP after 20, whoever the accounts', async () => {
    const throttle = createLoginThrottle(make());
    const ip = fresh('ip');
    const email = `${fresh('user')}@example.com`;
    const fail = async (who: string, from = ip) => {
      const attempt = await throttle.admit(who, from);
      return attempt.allowed ? attempt.failed() : attempt;
    };
    const lockouts = [];
    for (let i = 0; i < 5; i++) lockouts.push(...((await fail(email)) as unknown[]));
    expect(lockouts).toEqual([{ scope: 'account', retryAfter: expect.any(Number) }]);
    expect(await throttle.admit(email.toUpperCase(), ip)).toMatchObject({
      allowed: false,
      cause: 'locked',
      scope: 'account',
    });
    const other = await throttle.admit('someone-else@example.com', ip);
    expect(other.allowed).toBe(true);
    if (other.allowed) await other.release();
    for (let i = 0; i < 14; i++) await fail(`${fresh('other')}@example.com`);
    expect(await fail(`${fresh('other')}@example.com`)).toEqual([
      { scope: 'ip', retryAfter: expect.any(Number) },
    ]);
    expect(await throttle.admit('someone-else@example.com', ip)).toMatchObject({
      allowed: false,
      scope: 'ip',
    });
    expect((await throttle.admit('someone-else@example.com', fresh('ip'))).allowed).toBe(true);
  });
});

describe('memory rate limiter windows', () => {
  it('opens again when the window has passed (frozen clock)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const limiter = createRateLimiter({ kind: 'memory' });
    const limit = { limit: 1, windowSeconds: 60 };
    await limiter.hit('w', limit);
    expect((await limiter.hit('w', limit)).retryAfter).toBe(60);
    vi.setSystemTime(Date.now() + 60_000);
    expect((await limiter.hit('w', limit)).allowed).toBe(true);
  });
});

describe('memory rate limiter attempts in flight', () => {
  it('frees the slot of an attempt never settled (a crashed request) after IN_FLIGHT_SECONDS (frozen clock)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const limiter = createRateLimiter({ kind: 'memory' });
    const check = { key: 'crashed', limit: { limit: 1, windowSeconds: 900 } };
    expect((await limiter.admit([check])).allowed).toBe(true);
    expect(await limiter.admit([check])).toMatchObject({ allowed: false, cause: 'busy' });
    vi.setSystemTime(Date.now() + IN_FLIGHT_SECONDS * 1000);
    expect((await limiter.admit([check])).allowed).toBe(true);
  });
});
