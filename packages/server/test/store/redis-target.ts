import {
  REVOCATION_CHANNEL,
  REVOKED_KEY,
  type RevocationEvent,
} from '@gatehouse/resource/revocation-contract';
import type { Cluster, Redis } from 'ioredis';
import { createStore } from '../../src/store/index.ts';
import { grantSetKey, recordKeyOfMember } from '../../src/store/keys.ts';
import {
  closeRedisConnection,
  createRedisConnection,
  type RedisTarget,
  waitUntilReady,
} from '../../src/store/redis-connection.ts';
import { CONTRACT_TOKEN_STORE, type ContractTarget } from './adapter-contract.ts';

/** Opens a fail-fast connection and waits until it serves commands. */
export async function connect(redis: RedisTarget): Promise<Redis | Cluster> {
  const conn = createRedisConnection(redis);
  conn.on('error', () => {});
  if (!(await waitUntilReady(conn, 10_000))) throw new Error('Redis did not become ready');
  return conn;
}

/** A contract target on a Redis (standalone or cluster) started by the caller. */
export async function redisContractTarget(
  redis: RedisTarget,
  stop: () => Promise<void>,
): Promise<ContractTarget> {
  // Built as the server builds it: the one constructor of every backend.
  const store = await createStore({ redis, tokenStore: CONTRACT_TOKEN_STORE });
  const conn = store.connection;
  if (!conn) throw new Error('a Redis store has a connection');
  const opened: (Redis | Cluster)[] = [];
  return {
    Adapter: store.Adapter,
    subscribe: async () => {
      // A second connection: a subscribed connection serves nothing else.
      const subscriber = await connect(redis);
      opened.push(subscriber);
      const events: RevocationEvent[] = [];
      subscriber.on('message', (channel: string, message: string) => {
        if (channel === REVOCATION_CHANNEL) events.push(JSON.parse(message) as RevocationEvent);
      });
      await subscriber.subscribe(REVOCATION_CHANNEL);
      return { events, close: () => closeRedisConnection(subscriber) };
    },
    revokedEntries: async () => {
      const flat = await conn.zrange(REVOKED_KEY, '0', '-1', 'WITHSCORES');
      const entries = new Map<string, number>();
      for (let i = 0; i + 1 < flat.length; i += 2) entries.set(flat[i] ?? '', Number(flat[i + 1]));
      return entries;
    },
    ttlMs: async (key) => conn.pttl(key),
    grantMembers: async (grantId) => (await conn.smembers(grantSetKey(grantId))).map(recordKeyOfMember),
    teardown: async () => {
      await Promise.all([store.close(), ...opened.map((c) => closeRedisConnection(c))]);
      await stop();
    },
  };
}
