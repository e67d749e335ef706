import { startRedisCluster } from '@gatehouse/testkit';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/index.ts';

const tokenStore = { revokedTTL: 3600, accessTokenTTL: 900 };

describe('createStore', () => {
  it('runs in process without Redis', async () => {
    const store = await createStore({ redis: { kind: 'memory' }, tokenStore });
    expect(store.kind).toBe('memory');
    expect(store.connection).toBeUndefined();
    expect(await store.isReady()).toBe(true);
    const clients = new store.Adapter('Client');
    await clients.upsert('c-memory', { client_id: 'c-memory' });
    expect(await clients.find('c-memory')).toEqual({ client_id: 'c-memory' });
    await store.close();
  });

  it('connects to a Redis Cluster from its seeds', async () => {
    const cluster = await startRedisCluster(3);
    try {
      const nodes = cluster.nodes.slice(0, 1).map((node) => ({ host: '127.0.0.1', port: node.port }));
      const store = await createStore({ redis: { kind: 'cluster', nodes }, tokenStore });
      expect(store.kind).toBe('cluster');
      expect(await store.isReady()).toBe(true);
      const tokens = new store.Adapter('AccessToken');
      for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) await tokens.upsert(id, { jti: id }, 60);
      expect(await tokens.find('f')).toEqual({ jti: 'f' });
      await store.close();
      expect(store.connection?.status).toBe('end');
    } finally {
      await cluster.cleanup();
    }
  });
});
