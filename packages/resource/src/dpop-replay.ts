import type { Redis } from 'ioredis';

/**
 * Remembers DPoP proof `jti`s so each proof is accepted once (RFC 9449 §11.1). Implement it for any
 * shared store; the check and the record must be one atomic operation, or two requests carrying the
 * same proof can both pass.
 *
 * @example
 * ```ts
 * const store: DpopReplayStore = redisDpopReplayStore(new Redis(process.env.REDIS_URL ?? 'redis://localhost:6379'));
 * const first = await store.markUsed('jkt:jti', 121); // true once, then false until it expires
 * ```
 */
export interface DpopReplayStore {
  /**
   * Records `key` for `ttlSeconds` and resolves `true` if it was not recorded yet, `false` if it was.
   * Rejects when the store cannot answer (the verifier then answers 503, never 200).
   */
  markUsed(key: string, ttlSeconds: number): Promise<boolean>;
}

/**
 * Options of {@link memoryDpopReplayStore}.
 *
 * @example
 * ```ts
 * const options: MemoryDpopReplayStoreOptions = { max: 100_000 };
 * ```
 */
export interface MemoryDpopReplayStoreOptions {
  /**
   * Proofs remembered at most at once. When that many unexpired proofs are held, new proofs are refused
   * (503) rather than older ones forgotten, since forgetting would let them be replayed.
   * @default 100_000
   */
  max?: number;
  /** Clock in milliseconds. @default Date.now */
  now?: () => number;
}

/**
 * The replay store of one process (the default): a bounded map of `jti`s until their proofs expire.
 * Use {@link redisDpopReplayStore} when several instances of the API serve the same URLs.
 *
 * @example
 * ```ts
 * const verifier = createAccessTokenVerifier({ issuer, audience, dpopReplayStore: memoryDpopReplayStore({ max: 10_000 }) });
 * ```
 */
export function memoryDpopReplayStore(options: MemoryDpopReplayStoreOptions = {}): DpopReplayStore {
  const max = options.max ?? 100_000;
  const now = options.now ?? Date.now;
  // Insertion order is close to expiry order (every TTL is at most the proof window), so expired
  // entries are swept from the front; a later-expiring one in front only delays the sweep a little.
  const expiries = new Map<string, number>();
  const sweep = (at: number) => {
    for (const [key, expiresAt] of expiries) {
      if (expiresAt > at) break;
      expiries.delete(key);
    }
  };
  return {
    async markUsed(key, ttlSeconds) {
      const at = now();
      sweep(at);
      const seen = expiries.get(key);
      if (seen !== undefined && seen > at) return false;
      if (expiries.size >= max) throw new Error('DPoP replay store full');
      expiries.set(key, at + ttlSeconds * 1000);
      return true;
    },
  };
}

/**
 * Options of {@link redisDpopReplayStore}.
 *
 * @example
 * ```ts
 * const options: RedisDpopReplayStoreOptions = { prefix: 'recipes-api:dpop:' };
 * ```
 */
export interface RedisDpopReplayStoreOptions {
  /** Prefix of the keys, one per proof, each expiring with its proof. @default 'gatehouse:resource:dpop-jti:' */
  prefix?: string;
}

/**
 * A replay store shared by every instance of the API through Redis: one `SET key 1 NX EX ttl` per proof,
 * so of two requests carrying the same proof exactly one wins, whichever instance they reach.
 *
 * @example
 * ```ts
 * const verifier = createAccessTokenVerifier({ issuer, audience, dpopReplayStore: redisDpopReplayStore(redis) });
 * ```
 */
export function redisDpopReplayStore(
  redis: Redis,
  options: RedisDpopReplayStoreOptions = {},
): DpopReplayStore {
  const prefix = options.prefix ?? 'gatehouse:resource:dpop-jti:';
  return {
    async markUsed(key, ttlSeconds) {
      const set = await redis.set(`${prefix}${key}`, '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)), 'NX');
      return set === 'OK';
    },
  };
}
