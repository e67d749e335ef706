import {
  REVOCATION_CHANNEL,
  REVOKED_KEY,
  type RevocationEvent,
} from '@gatehouse/resource/revocation-contract';
import type { Cluster, Redis } from 'ioredis';
import { grantSetKey } from '../../src/store/keys.ts';
import { createRedisAdapterClass } from '../../src/store/redis-adapter.ts';
import {
  closeRedisConnection,
  createRedisConnection,
  type RedisTarget,
  waitUntilReady,
} from '../../src/store/redis-connection.ts';
import { CONTRACT_ACCESS_TOKEN_TTL, CONTRACT_REVOKED_TTL, type ContractTarget } from './adapter-contract.ts';

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
  const conn = await connect(redis);
  const opened: (Redis | Cluster)[] = [conn];
  return {
    Adapter: createRedisAdapterClass(conn, {
      revokedTTL: CONTRACT_REVOKED_TTL,
      accessTokenTTL: CONTRACT_ACCESS_TOKEN_TTL,
    }),
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
    grantMembers: async (grantId) => conn.smembers(grantSetKey(grantId)),
    teardown: async () => {
      await Promise.all(opened.map((c) => closeRedisConnection(c)));
      await stop();
    },
  };
}
