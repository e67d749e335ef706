import type { Cluster, Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { AdapterClass, AdapterOptions } from './adapter-options.ts';
import { StoreUnavailableError } from './errors.ts';
import { createMemoryAdapterClass } from './memory-adapter.ts';
import { createRedisAdapterClass } from './redis-adapter.ts';
import {
  closeRedisConnection,
  createRedisConnection,
  isRedisAvailable,
  waitUntilReady,
} from './redis-connection.ts';

export type { AdapterClass, AdapterOptions } from './adapter-options.ts';
export {
  type StoreError,
  StoreUnavailableError,
  TokenAlreadyConsumedError,
  TokenNotFoundError,
} from './errors.ts';
export { memoryRevocations, memoryRevokedEvents, resetMemoryStore } from './memory-adapter.ts';
export { isRedisAvailable } from './redis-connection.ts';

/** The token store the provider runs on. */
export interface Store {
  readonly kind: 'memory' | 'standalone' | 'cluster';
  /** oidc-provider's `adapter` option. */
  readonly Adapter: AdapterClass;
  /** The Redis connection, for other Redis users (accounts, rate limits); absent in memory. */
  readonly connection?: Redis | Cluster;
  /** For /readyz: Redis answers PING (always true in memory). */
  isReady(): Promise<boolean>;
  /** Closes the Redis connection (QUIT, then hard disconnect when unreachable). */
  close(): Promise<void>;
}

export interface CreateStoreOptions extends AdapterOptions {
  /** How long to wait for the first Redis connection before failing; default 10 s. */
  readonly connectWaitMs?: number;
  /**
   * Receives connection errors (ioredis emits one per failed reconnect). Without a listener
   * ioredis prints them to the console; requests see them as StoreUnavailableError anyway.
   */
  readonly onConnectionError?: (err: Error) => void;
}

/**
 * Creates the store configured by `config.redis`. With Redis, waits until the first
 * connection is ready (commands are rejected before that: the offline queue is off) and
 * throws StoreUnavailableError when it is not within `connectWaitMs`.
 *
 * @example
 * const store = await createStore(config, { revokedTTL: config.refreshTokenTTL, accessTokenTTL: config.accessTokenTTL });
 * const provider = new Provider(config.issuer, { adapter: store.Adapter, ... });
 */
export async function createStore(
  config: { readonly redis: Config['redis'] },
  options: CreateStoreOptions,
): Promise<Store> {
  const adapterOptions: AdapterOptions = {
    revokedTTL: options.revokedTTL,
    accessTokenTTL: options.accessTokenTTL,
  };
  if (config.redis.kind === 'memory') {
    return {
      kind: 'memory',
      Adapter: createMemoryAdapterClass(adapterOptions),
      isReady: async () => true,
      close: async () => {},
    };
  }
  const connection = createRedisConnection(config.redis);
  connection.on('error', options.onConnectionError ?? (() => {}));
  if (!(await waitUntilReady(connection, options.connectWaitMs ?? 10_000))) {
    connection.disconnect();
    throw new StoreUnavailableError({ cause: new Error(`Redis (${config.redis.kind}) is not reachable`) });
  }
  return {
    kind: config.redis.kind,
    Adapter: createRedisAdapterClass(connection, adapterOptions),
    connection,
    isReady: () => isRedisAvailable(connection),
    close: () => closeRedisConnection(connection),
  };
}
