import {
  type RedisClusterProcess,
  type RedisProcess,
  startRedis,
  startRedisCluster,
} from '@gatehouse/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { replayKey } from '../../src/store/keys.ts';

const tokenStore = { revokedTTL: 3600, accessTokenTTL: 900 };

// The store's replay guard on every backend: the first claim of an id wins, every claim while it
// lives loses, and a burst of claims of one id has exactly one winner.
describe.each(['memory', 'redis', 'cluster'] as const)('replay guard on %s', (backend) => {
  let redis: RedisProcess | undefined;
  let cluster: RedisClusterProcess | undefined;
  let store: Store;
  beforeAll(async () => {
    if (backend === 'redis') redis = await startRedis();
    if (backend === 'cluster') cluster = await startRedisCluster(3);
    store = await createStore({
      redis: redis
        ? { kind: 'standalone', url: redis.url }
        : cluster
          ? { kind: 'cluster', nodes: cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })) }
          : { kind: 'memory' },
      tokenStore,
    });
  });
  afterAll(async () => {
    await store?.close();
    await redis?.cleanup();
    await cluster?.cleanup();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the first claim wins; the same id again loses, another id wins', async () => {
    expect(await store.replay.claimOnce('proof-a', 600)).toBe(true);
    expect(await store.replay.claimOnce('proof-a', 600)).toBe(false);
    expect(await store.replay.claimOnce('proof-b', 600)).toBe(true);
  });

  it('200 parallel claims of one id: exactly one wins', async () => {
    const claims = await Promise.all(Array.from({ length: 200 }, () => store.replay.claimOnce('burst', 600)));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('a claim lives its TTL and no longer', async () => {
    if (backend !== 'memory' && store.connection) {
      await store.replay.claimOnce('ttl', 600);
      const ttl = await store.connection.ttl(replayKey('ttl'));
      expect(ttl).toBeGreaterThan(590);
      expect(ttl).toBeLessThanOrEqual(600);
      return;
    }
    vi.useFakeTimers({ toFake: ['Date'] });
    await store.replay.claimOnce('ttl', 600);
    vi.advanceTimersByTime(599_000);
    expect(await store.replay.claimOnce('ttl', 600)).toBe(false);
    vi.advanceTimersByTime(2_000);
    expect(await store.replay.claimOnce('ttl', 600)).toBe(true);
  });
});

// Only a Redis can go away; the in-process store has no outage to report.
describe('replay guard on redis, while Redis is away', () => {
  let redis: RedisProcess;
  let store: Store;
  beforeAll(async () => {
    redis = await startRedis();
    store = await createStore({ redis: { kind: 'standalone', url: redis.url }, tokenStore });
  });
  afterAll(async () => {
    await store?.close();
    await redis?.cleanup();
  });

  it('the claim fails as StoreUnavailableError (503), never as a replay', async () => {
    await redis.stop();
    await expect(store.replay.claimOnce('while-down', 600)).rejects.toBeInstanceOf(StoreUnavailableError);
    await redis.restart();
    await expect.poll(() => store.replay.claimOnce('after-restart', 600).catch(() => 'down')).toBe(true);
  });
});
