import { startRedis, startRedisCluster } from '@gatehouse/testkit';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryKeyRepository } from './key-repository.ts';
import { RedisKeyRepository } from './redis-key-repository.ts';
import { ensureSigningKeys, loadKeys, rotateSigningKey } from './signing-key-lifecycle.ts';

let redis: Awaited<ReturnType<typeof startRedis>>;
let conn: Redis;
beforeAll(async () => {
  redis = await startRedis();
  conn = new Redis(redis.url);
});
afterAll(async () => {
  conn.disconnect();
  await redis.cleanup();
});

describe.each([
  ['RedisKeyRepository', () => new RedisKeyRepository(conn, `test:keys:${Math.random()}`)],
  ['MemoryKeyRepository', () => new MemoryKeyRepository()],
])('%s compare-and-set', (_name, create) => {
  it('writes only over the value the caller read', async () => {
    const repo = create();
    expect(await repo.load()).toBeNull();
    expect(await repo.save('one', 'something')).toBe(false);
    expect(await repo.save('one', null)).toBe(true);
    expect(await repo.save('two', null)).toBe(false);
    expect(await repo.save('two', 'stale')).toBe(false);
    expect(await repo.load()).toBe('one');
    expect(await repo.save('two', 'one')).toBe(true);
    expect(await repo.load()).toBe('two');
  });

  it('lets exactly one of several concurrent first writes win', async () => {
    const repo = create();
    const wins = await Promise.all(['a', 'b', 'c', 'd'].map((value) => repo.save(value, null)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });
});

describe('RedisKeyRepository', () => {
  it('stores under gatehouse:keys with no expiry', async () => {
    await new RedisKeyRepository(conn).save('value', null);
    expect(await conn.get('gatehouse:keys')).toBe('value');
    expect(await conn.ttl('gatehouse:keys')).toBe(-1);
  });
});

describe('RedisKeyRepository on a Redis Cluster', () => {
  it('creates one key from concurrent starts and rotates', async () => {
    const cluster = await startRedisCluster(3);
    const nodes = cluster.seeds
      .split(',')
      .map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) }));
    const clients = [new Cluster(nodes), new Cluster(nodes)];
    try {
      const secret = 'cluster-test-secret-with-32-characters';
      const [a, b] = await Promise.all(
        clients.map((client) => ensureSigningKeys(new RedisKeyRepository(client), secret)),
      );
      expect(a).toHaveLength(1);
      expect(b).toEqual(a);
      const { records } = await rotateSigningKey(new RedisKeyRepository(clients[0] as Cluster), secret, {
        jwksMaxAge: 300,
        accessTokenTTL: 900,
      });
      expect(await loadKeys(new RedisKeyRepository(clients[1] as Cluster), secret)).toEqual(records);
    } finally {
      await Promise.all(clients.map((client) => client.quit()));
      await cluster.cleanup();
    }
  });
});
