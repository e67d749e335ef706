import {
  type RedisClusterProcess,
  type RedisProcess,
  startRedis,
  startRedisCluster,
} from '@gatehouse/testkit';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLoginThrottle, createRateLimiter, type RateLimiter } from '../../src/security/index.ts';

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

  it('locks an account after 5 failures and an IP after 20, whoever the accounts', async () => {
    const throttle = createLoginThrottle(make());
    const ip = fresh('ip');
    const email = `${fresh('user')}@example.com`;
    for (let i = 0; i < 5; i++) {
      expect((await throttle.check(email, ip)).allowed).toBe(true);
      await throttle.recordFailure(email, ip);
    }
    expect((await throttle.check(email.toUpperCase(), ip)).allowed).toBe(false);
    expect((await throttle.check('someone-else@example.com', ip)).allowed).toBe(true);
    for (let i = 0; i < 15; i++) await throttle.recordFailure(`${fresh('other')}@example.com`, ip);
    expect((await throttle.check('someone-else@example.com', ip)).allowed).toBe(false);
    expect((await throttle.check('someone-else@example.com', fresh('ip'))).allowed).toBe(true);
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
