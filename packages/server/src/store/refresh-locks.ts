import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import { refreshLockKey } from './keys.ts';
import { unavailableOnFailure } from './unavailable-on-failure.ts';

/**
 * Serializes redemptions of one refresh token, so that inside REFRESH_TOKEN_REUSE_INTERVAL a
 * retried request sees the first one's outcome (its successor) instead of racing it.
 */
export interface RefreshSerializer {
  /**
   * Resolves with a release function once no other redemption of `tokenId` is in flight.
   * Rejects with `StoreUnavailableError` when the store cannot be asked; the release never rejects.
   */
  acquire(tokenId: string): Promise<() => Promise<void>>;
}

const LOCK_TTL_MS = 10_000;
const WAIT_LIMIT_MS = 5_000;

/** Locks of this process, for the in-process store. */
export function memoryRefreshSerializer(): RefreshSerializer {
  const tails = new Map<string, Promise<void>>();
  return {
    async acquire(tokenId) {
      const previous = tails.get(tokenId) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tail = previous.then(() => mine);
      tails.set(tokenId, tail);
      await previous;
      return async () => {
        release();
        if (tails.get(tokenId) === tail) tails.delete(tokenId);
      };
    },
  };
}

const RELEASE_IF_OWNER =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/** A Redis `SET NX PX` lock per token ({@link refreshLockKey}), shared by every Gatehouse instance. */
export function redisRefreshSerializer(conn: Redis | Cluster): RefreshSerializer {
  return {
    async acquire(tokenId) {
      const key = refreshLockKey(tokenId);
      const owner = crypto.randomUUID();
      const deadline = Date.now() + WAIT_LIMIT_MS;
      // If the lock cannot be had in time we proceed anyway: the adapter's atomic consume()
      // still guarantees a single winner, this only decides who gets the reuse-window answer.
      while (Date.now() < deadline) {
        const taken = await unavailableOnFailure(() => conn.set(key, owner, 'PX', LOCK_TTL_MS, 'NX'));
        if (taken === 'OK') break;
        await sleep(20);
      }
      return async () => {
        // The answer may already be on its way to the client: a release that fails must not
        // turn it into an error. An unreleased lock expires by itself after LOCK_TTL_MS.
        await conn.eval(RELEASE_IF_OWNER, 1, key, owner).catch(() => {});
      };
    },
  };
}
