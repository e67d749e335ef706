import { startRedis, startRedisCluster } from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import type { Adapter } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { createRedisAdapterClass } from '../../src/store/redis-adapter.ts';
import { closeRedisConnection } from '../../src/store/redis-connection.ts';
import { connect } from './redis-target.ts';

const tokenStore = { revokedTTL: 3600, accessTokenTTL: 900 };

/** One call of every adapter method, each against its own model as oidc-provider would. */
function everyMethod(adapterFor: (model: string) => Adapter): [string, () => Promise<unknown>][] {
  return [
    ['upsert', () => adapterFor('AccessToken').upsert('at-1', { jti: 'at-1', grantId: 'g-1' }, 60)],
    ['upsert (no grant)', () => adapterFor('Client').upsert('c-1', { client_id: 'c-1' })],
    ['find', () => adapterFor('AccessToken').find('at-1')],
    ['findByUid', () => adapterFor('Session').findByUid('uid-1')],
    ['findByUserCode', () => adapterFor('DeviceCode').findByUserCode('ABCD-EFGH')],
    ['consume', () => adapterFor('AuthorizationCode').consume('code-1')],
    ['destroy', () => adapterFor('AccessToken').destroy('at-1')],
    ['revokeByGrantId', () => adapterFor('RefreshToken').revokeByGrantId('g-1')],
  ];
}

/** Rejects with StoreUnavailableError, and does so within ~1.5 s rather than hanging. */
async function expectUnavailable(call: () => Promise<unknown>): Promise<void> {
  const started = Date.now();
  const outcome = await call().then(
    () => new Error('resolved while Redis is unavailable'),
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(StoreUnavailableError);
  expect(outcome).toMatchObject({ status: 503, error: 'temporarily_unavailable', expose: true });
  expect(Date.now() - started).toBeLessThan(1_500);
}

async function eventuallyWorks(call: () => Promise<unknown>, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await call();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('standalone Redis unavailable', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let store: Store;

  beforeAll(async () => {
    // DEBUG SLEEP (to stall the server) is disabled by default since Redis 7.
    redis = await startRedis({ args: ['--enable-debug-command', 'yes'] });
    store = await createStore({ redis: { kind: 'standalone', url: redis.url }, tokenStore });
  });
  afterAll(async () => {
    await store?.close();
    await redis?.cleanup();
  });

  it('answers 503 from every method while Redis is down, and recovers by itself', async () => {
    const adapterFor = (model: string) => new store.Adapter(model);
    await adapterFor('Client').upsert('before', { client_id: 'before' });
    expect(await store.isReady()).toBe(true);

    await redis.stop();
    for (const [, call] of everyMethod(adapterFor)) await expectUnavailable(call);
    expect(await store.isReady()).toBe(false);

    await redis.restart();
    // Same store, same connection: it reconnects on its own.
    await eventuallyWorks(() => adapterFor('Client').upsert('after', { client_id: 'after' }));
    expect(await adapterFor('Client').find('after')).toEqual({ client_id: 'after' });
    expect(await store.isReady()).toBe(true);
  });

  it('answers 503 when Redis hangs instead of waiting for it (command timeout)', async () => {
    const adapterFor = (model: string) => new store.Adapter(model);
    const blocker = new Redis(redis.url);
    try {
      // DEBUG SLEEP blocks the whole server, as a stalled or swapping Redis would.
      const sleeping = blocker.call('DEBUG', 'SLEEP', '2.5').catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await expectUnavailable(() => adapterFor('AccessToken').find('at-1'));
      await sleeping;
      await eventuallyWorks(() => adapterFor('AccessToken').find('at-1'));
    } finally {
      blocker.disconnect();
    }
  });

  it('refuses to start when Redis is not reachable in time', async () => {
    const gone = await startRedis();
    await gone.cleanup();
    await expect(
      createStore({ redis: { kind: 'standalone', url: gone.url }, tokenStore }, { connectWaitMs: 500 }),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('Redis Cluster node unavailable', () => {
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  });
  afterAll(async () => {
    await cluster?.cleanup();
  });

  it('answers 503 for keys on a stopped master and recovers when it returns', async () => {
    const conn = await connect({
      kind: 'cluster',
      nodes: cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
    });
    try {
      const Adapter = createRedisAdapterClass(conn, tokenStore);
      const clients = new Adapter('Client');
      // Find ids whose slots live on the node we stop, by asking that node who owns them.
      const victim = cluster.nodes[0];
      if (victim === undefined) throw new Error('no nodes');
      const direct = new Redis(victim.url);
      const served = await slotsServedBy(direct);
      const ids: string[] = [];
      for (let i = 0; ids.length < 3; i++) {
        const slot = Number(await direct.call('CLUSTER', 'KEYSLOT', `gatehouse:Client:{c${i}}`));
        if (served.has(slot)) ids.push(`c${i}`);
      }
      direct.disconnect();
      for (const id of ids) await clients.upsert(id, { client_id: id });

      await victim.stop();
      for (const id of ids) await expectUnavailable(() => clients.find(id));

      await victim.restart();
      await eventuallyWorks(() => clients.upsert('c-after', { client_id: 'c-after' }), 15_000);
      for (const id of ids) await eventuallyWorks(() => clients.find(id), 15_000);
    } finally {
      await closeRedisConnection(conn);
    }
  });
});

describe('whole Redis Cluster unavailable', () => {
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  });
  afterAll(async () => {
    await cluster?.cleanup();
  });

  it('answers 503 from every method while all masters are down, and recovers by itself', async () => {
    const nodes = cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
    const store = await createStore({ redis: { kind: 'cluster', nodes }, tokenStore });
    try {
      const adapterFor = (model: string) => new store.Adapter(model);
      await adapterFor('Client').upsert('before', { client_id: 'before' });

      await Promise.all(cluster.nodes.map((node) => node.stop()));
      for (const [, call] of everyMethod(adapterFor)) await expectUnavailable(call);
      expect(await store.isReady()).toBe(false);

      await Promise.all(cluster.nodes.map((node) => node.restart()));
      await eventuallyWorks(() => adapterFor('Client').upsert('after', { client_id: 'after' }), 20_000);
      expect(await adapterFor('Client').find('after')).toEqual({ client_id: 'after' });
    } finally {
      await store.close();
    }
  });
});

/** Slots served by the node `conn` is connected to. */
async function slotsServedBy(conn: Redis): Promise<Set<number>> {
  const ranges = (await conn.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const port = conn.options.port;
  const slots = new Set<number>();
  for (const [from, to, [, nodePort]] of ranges) {
    if (nodePort !== port) continue;
    for (let slot = from; slot <= to; slot++) slots.add(slot);
  }
  return slots;
}
