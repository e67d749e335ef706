import type { Cluster, Redis } from 'ioredis';
import type { Adapter } from 'oidc-provider';
import type { Config } from '../config/config.ts';
import { RedisKeyRepository } from '../signing-keys/redis-key-repository.ts';
import { createRedisAdapterClass } from '../store/redis-adapter.ts';
import { closeRedisConnection, createRedisConnection } from '../store/redis-connection.ts';
import { CliError } from './cli-error.ts';
import { ClientRegistry, type ClientStore } from './client-registry.ts';

/** How long the CLI waits for Redis before giving up with one line. */
const CONNECT_TIMEOUT_MS = 5_000;

/** The Redis-backed stores an admin command works on. */
export interface AdminStore {
  readonly conn: Redis | Cluster;
  readonly keys: RedisKeyRepository;
  readonly clients: ClientRegistry;
  /** Grants, sized like the server's: a revocation event outlives every access token of the grant. */
  readonly grants: Adapter;
  close(): Promise<void>;
}

/** `redis://user:pass@host:6379/0` → `redis://host:6379/0`, for messages. */
export function describeRedis(redis: Config['redis']): string {
  if (redis.kind === 'cluster') return `cluster ${redis.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  if (redis.kind === 'memory') return 'the in-process store';
  const url = new URL(redis.url);
  url.username = '';
  url.password = '';
  return url.toString();
}

/**
 * Resolves `undefined` once the connection is ready, or the first error (or a timeout) as one
 * line. A one-shot command should not sit through the server's reconnect loop.
 */
function firstConnection(conn: Redis | Cluster): Promise<string | undefined> {
  if (conn.status === 'ready') return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const done = (problem: string | undefined) => {
      clearTimeout(timer);
      conn.off('ready', onReady);
      // Later errors (while disconnecting) are expected and have nowhere to go.
      conn.off('error', onError);
      conn.on('error', () => {});
      resolve(problem);
    };
    const onReady = () => done(undefined);
    const onError = (err: Error) => done(err.message.split('\n')[0] ?? 'error');
    const timer = setTimeout(() => done(`no answer in ${CONNECT_TIMEOUT_MS} ms`), CONNECT_TIMEOUT_MS);
    conn.once('ready', onReady);
    conn.once('error', onError);
  });
}

/**
 * Connects to the configured Redis. Throws {@link CliError} when none is configured (the
 * in-process store lives inside the server process, out of the CLI's reach) or it does not answer.
 *
 * @example
 * const store = await openAdminStore(loadConfig());
 * try { console.log(await store.clients.list()) } finally { await store.close() }
 */
export async function openAdminStore(config: Config): Promise<AdminStore> {
  if (config.redis.kind === 'memory') {
    throw new CliError(
      'no Redis configured: set REDIS_URL or REDIS_CLUSTER_NODES (the CLI works on the Redis store)',
    );
  }
  const conn = createRedisConnection(config.redis);
  const problem = await firstConnection(conn);
  if (problem !== undefined) {
    conn.disconnect();
    throw new CliError(`cannot reach Redis at ${describeRedis(config.redis)} (${problem})`);
  }
  const Adapter = createRedisAdapterClass(conn, config.tokenStore);
  const adapter = new Adapter('Client');
  const clientStore: ClientStore = {
    upsert: (id, payload) => adapter.upsert(id, payload),
    // oidc-provider's Adapter type allows `void` for "not found".
    find: async (id) => (await adapter.find(id)) ?? undefined,
    destroy: (id) => adapter.destroy(id),
  };
  return {
    conn,
    keys: new RedisKeyRepository(conn),
    clients: new ClientRegistry(clientStore, conn),
    grants: new Adapter('Grant'),
    close: () => closeRedisConnection(conn),
  };
}
