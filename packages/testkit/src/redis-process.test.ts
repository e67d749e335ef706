import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startRedisCluster } from './redis-cluster.ts';
import { startRedis } from './redis-process.ts';

describe('startRedis', () => {
  it('starts a private server that keeps AOF data across a restart', async () => {
    const redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    onTestFinished(() => redis.cleanup());
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.set('k', 'v');
    client.disconnect();
    await redis.restart();
    const again = new Redis(redis.url);
    expect(await again.get('k')).toBe('v');
    again.disconnect();
  });

  it('starts a three-master cluster that serves every slot', async () => {
    const cluster = await startRedisCluster(3);
    onTestFinished(() => cluster.cleanup());
    const client = new Redis.Cluster(
      cluster.seeds.split(',').map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) })),
    );
    for (const key of ['a', 'b', 'c', 'd', 'e']) await client.set(key, key);
    expect(await client.get('e')).toBe('e');
    await client.quit();
  });
});
