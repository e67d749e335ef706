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
   * (503) rather than older ones forgotten, since forgetting would let them be replayed. A proof is held
   * about `dpopProofWindow` + 1 seconds (61 s by default), so the default serves ~16,000 DPoP requests/s;
   * the table grows with use, to at most 24 MiB at the default.
   * @default 1_000_000
   */
  max?: number;
  /** Clock in milliseconds. @default Date.now */
  now?: () => number;
}

/**
 * The replay store of one process (the default): a bounded table of `jti`s until their proofs expire.
 * Use {@link redisDpopReplayStore} when several instances of the API serve the same URLs.
 *
 * @example
 * ```ts
 * const verifier = createAccessTokenVerifier({ issuer, audience, dpopReplayStore: memoryDpopReplayStore({ max: 10_000 }) });
 * ```
 */
export function memoryDpopReplayStore(options: MemoryDpopReplayStoreOptions = {}): DpopReplayStore {
  const max = options.max ?? 1_000_000;
  if (!(max >= 1)) throw new TypeError('max must be at least 1');
  const now = options.now ?? Date.now;
  const base = now();
  // An open-addressing table in one typed array: per slot a 64-bit fingerprint of the key and its expiry
  // in whole seconds since `base` (+1; 0 marks a never-used slot). Nothing per proof for the GC to trace,
  // 12 bytes a slot, which measured as the cheapest part of a proof check instead of the dearest.
  let capacity = 1024;
  let table = new Uint32Array(capacity * 3);
  /** Slots ever written since the last rebuild (expired ones stay until then, as probe-chain links). */
  let occupied = 0;
  /** An upper bound of unexpired entries: exact at a rebuild, +1 per insert since. */
  let live = 0;
  let rebuiltAt = Number.NEGATIVE_INFINITY;
  const ceiling = 2 ** Math.ceil(Math.log2(max * 2 + 2));

  const rebuild = (at: number) => {
    const old = table;
    const oldCapacity = capacity;
    live = 0;
    for (let slot = 0; slot < oldCapacity; slot++) if (old[slot * 3 + 2]! > at) live++;
    capacity = Math.min(ceiling, Math.max(1024, 2 ** Math.ceil(Math.log2((live + 1) * 4))));
    table = new Uint32Array(capacity * 3);
    occupied = 0;
    const mask = capacity - 1;
    for (let slot = 0; slot < oldCapacity; slot++) {
      const expiry = old[slot * 3 + 2]!;
      if (expiry <= at) continue;
      let i = old[slot * 3]! & mask;
      while (table[i * 3 + 2] !== 0) i = (i + 1) & mask;
      table[i * 3] = old[slot * 3]!;
      table[i * 3 + 1] = old[slot * 3 + 1]!;
      table[i * 3 + 2] = expiry;
      occupied++;
    }
  };

  return {
    async markUsed(key, ttlSeconds) {
      const at = (now() - base) / 1000;
      // Two FNV-1a hashes of the key: 64 bits, so at a million proofs a false "replayed" has odds ~1e-7.
      let h1 = 0x811c9dc5;
      let h2 = 0x050c5d1f;
      for (let c = 0; c < key.length; c++) {
        const code = key.charCodeAt(c);
        h1 = Math.imul(h1 ^ code, 0x01000193);
        h2 = Math.imul(h2 ^ code, 0x01000193) ^ (h2 >>> 15);
      }
      h1 >>>= 0;
      h2 >>>= 0;
      // When full, look for expired entries at most once a second: a scan per request would be a lever for load.
      if ((occupied + 1) * 2 > capacity || (live >= max && at - rebuiltAt >= 1)) {
        rebuild(at);
        rebuiltAt = at;
      }
      if (live >= max) throw new Error('DPoP replay store full');
      const mask = capacity - 1;
      let i = h1 & mask;
      let reusable = -1;
      for (;;) {
        const expiry = table[i * 3 + 2]!;
        if (expiry === 0) break;
        if (table[i * 3] === h1 && table[i * 3 + 1] === h2) {
          if (expiry > at) return false;
          reusable = i;
          break;
        }
        if (reusable < 0 && expiry <= at) reusable = i;
        i = (i + 1) & mask;
      }
      const slot = reusable >= 0 ? reusable : i;
      if (reusable < 0) occupied++;
      table[slot * 3] = h1;
      table[slot * 3 + 1] = h2;
      table[slot * 3 + 2] = Math.max(1, Math.ceil(at + ttlSeconds) + 1);
      live++;
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
