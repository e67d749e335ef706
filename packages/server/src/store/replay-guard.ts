import type { Cluster, Redis } from 'ioredis';
import { replayKey } from './keys.ts';
import { unavailableOnFailure } from './unavailable-on-failure.ts';

/**
 * Remembers one-time identifiers (a DPoP proof's `jti`, a client assertion's `jti`) for as long
 * as what they identify could be presented: the first claim wins, every later claim of the same
 * id while it lives is refused. Claiming is one atomic store operation, so of N requests racing
 * with one proof, on one instance or many, exactly one gets `true`.
 */
export interface ReplayGuard {
  /**
   * `true` when `id` was not claimed in the last `ttlSeconds` (and claims it now), `false` when it
   * was. Rejects with `StoreUnavailableError` when Redis cannot be asked.
   */
  claimOnce(id: string, ttlSeconds: number): Promise<boolean>;
}

/** `SET … NX EX` on {@link replayKey}: one command, shared by every instance on that Redis. */
export function redisReplayGuard(conn: Redis | Cluster): ReplayGuard {
  return {
    async claimOnce(id, ttlSeconds) {
      const reply = await unavailableOnFailure(() =>
        conn.set(replayKey(id), '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)), 'NX'),
      );
      return reply === 'OK';
    },
  };
}

/** Sweep expired claims once this many claims were made since the last sweep. */
const SWEEP_EVERY = 1_000;

/**
 * The in-process store's claims (one process; nothing to race but this event loop, where a
 * synchronous check-and-set is atomic). Live claims are never evicted to make room: an evicted
 * claim would let its proof be replayed.
 */
export function memoryReplayGuard(): ReplayGuard {
  const claims = new Map<string, number>();
  let sinceSweep = 0;
  return {
    async claimOnce(id, ttlSeconds) {
      const now = Date.now();
      if (++sinceSweep >= SWEEP_EVERY) {
        sinceSweep = 0;
        for (const [claimed, until] of claims) if (until <= now) claims.delete(claimed);
      }
      const until = claims.get(id);
      if (until !== undefined && until > now) return false;
      claims.set(id, now + Math.max(1, Math.ceil(ttlSeconds)) * 1000);
      return true;
    },
  };
}
