import type { RevocationSource } from '@gatehouse/resource/revocation-contract';
import type { Cluster, Redis } from 'ioredis';
import { type AccountStore, createAccountStore } from '../accounts/account-store.ts';
import type { Config } from '../config/config.ts';
import { createLockoutBroadcast, type LockoutBroadcast } from '../security/lockout-broadcast.ts';
import { createRateLimiter, type RateLimiter } from '../security/rate-limiter.ts';
import type { KeyRepository } from '../signing-keys/key-repository.ts';
import { MemoryKeyRepository } from '../signing-keys/key-repository.ts';
import { RedisKeyRepository } from '../signing-keys/redis-key-repository.ts';
import type { AdapterClass } from './adapter-options.ts';
import { StoreUnavailableError } from './errors.ts';
import { createMemoryTokenStore } from './memory-adapter.ts';
import { createRedisAdapterClass } from './redis-adapter.ts';
import {
  closeRedisConnection,
  createRedisConnection,
  isRedisAvailable,
  waitUntilReady,
} from './redis-connection.ts';
import { memoryRefreshSerializer, type RefreshSerializer, redisRefreshSerializer } from './refresh-locks.ts';
import { memoryReplayGuard, type ReplayGuard, redisReplayGuard } from './replay-guard.ts';
import type { StoreBackend } from './store-backend.ts';

export type { AdapterClass, AdapterOptions } from './adapter-options.ts';
export {
  STORE_RETRY_AFTER_SECONDS,
  type StoreError,
  StoreUnavailableError,
  TokenAlreadyConsumedError,
  TokenNotFoundError,
} from './errors.ts';
export { readStoredRecord } from './redis-adapter.ts';
export { isRedisAvailable } from './redis-connection.ts';
export type { RefreshSerializer } from './refresh-locks.ts';
export type { ReplayGuard } from './replay-guard.ts';
export type { StoreBackend } from './store-backend.ts';

/**
 * Every piece of state of one server instance, built on one backend. Nothing stateful lives
 * at module level: two stores in one process share nothing.
 */
export interface Store {
  readonly kind: 'memory' | 'standalone' | 'cluster';
  /** oidc-provider's `adapter` option: grants, tokens, sessions, clients, interactions. */
  readonly Adapter: AdapterClass;
  readonly accounts: AccountStore;
  /** Rate limits and lockouts. */
  readonly limiter: RateLimiter;
  /** Lockouts as they start, told to every instance (pub/sub on Redis). */
  readonly lockouts: LockoutBroadcast;
  /** The encrypted signing key set. */
  readonly keys: KeyRepository;
  /** Serializes redemptions of one refresh token inside the reuse interval. */
  readonly refreshLocks: RefreshSerializer;
  /** One-time ids already seen (DPoP proofs): atomic first-claim-wins, shared by every instance on Redis. */
  readonly replay: ReplayGuard;
  /**
   * The in-process store's revocations, for a resource verifier in the same process; `undefined`
   * with Redis, where verifiers subscribe through Redis (`redisRevocationSource` of `@gatehouse/resource`).
   */
  readonly revocations: RevocationSource | undefined;
  /** The Redis connection, for metrics; absent in memory. */
  readonly connection?: Redis | Cluster;
  /** For /readyz: Redis answers PING (always true in memory). */
  isReady(): Promise<boolean>;
  /** Closes the Redis connection (QUIT, then hard disconnect when unreachable). */
  close(): Promise<void>;
}

export interface CreateStoreOptions {
  /** How long to wait for the first Redis connection before failing; default 10 s. */
  readonly connectWaitMs?: number;
  /**
   * Receives connection errors (ioredis emits one per failed reconnect). Without a listener
   * ioredis prints them to the console; requests see them as StoreUnavailableError anyway.
   */
  readonly onConnectionError?: (err: Error) => void;
}

/** The parts of the configuration the store is built from. */
export type StoreConfig = Pick<Config, 'redis' | 'tokenStore'>;

/**
 * Builds the state of one server instance on the backend `config.redis` names; the only place
 * that chooses between Redis and the in-process store. With Redis, waits until the first
 * connection is ready (commands are rejected before that: the offline queue is off) and throws
 * StoreUnavailableError when it is not within `connectWaitMs`. Every Redis-backed part answers a
 * Redis failure with StoreUnavailableError (`unavailableOnFailure`), which the HTTP layer renders
 * as 503 `temporarily_unavailable` with Retry-After.
 *
 * @example
 * const store = await createStore(config);
 * const provider = new Provider(config.issuer, { adapter: store.Adapter, ... });
 */
export async function createStore(config: StoreConfig, options: CreateStoreOptions = {}): Promise<Store> {
  if (config.redis.kind === 'memory') {
    const tokens = createMemoryTokenStore(config.tokenStore);
    return {
      kind: 'memory',
      ...parts({ kind: 'memory' }),
      Adapter: tokens.Adapter,
      revocations: tokens.revocations,
      isReady: async () => true,
      close: async () => tokens.close(),
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
    ...parts({ kind: 'redis', conn: connection }),
    Adapter: createRedisAdapterClass(connection, config.tokenStore),
    revocations: undefined,
    connection,
    isReady: () => isRedisAvailable(connection),
    close: () => closeRedisConnection(connection),
  };
}

/** The parts beside the token store, each on the one backend chosen above. */
function parts(
  backend: StoreBackend,
): Pick<Store, 'accounts' | 'limiter' | 'lockouts' | 'keys' | 'refreshLocks' | 'replay'> {
  return {
    accounts: createAccountStore(backend),
    limiter: createRateLimiter(backend),
    lockouts: createLockoutBroadcast(backend),
    keys: backend.kind === 'redis' ? new RedisKeyRepository(backend.conn) : new MemoryKeyRepository(),
    refreshLocks: backend.kind === 'redis' ? redisRefreshSerializer(backend.conn) : memoryRefreshSerializer(),
    replay: backend.kind === 'redis' ? redisReplayGuard(backend.conn) : memoryReplayGuard(),
  };
}
