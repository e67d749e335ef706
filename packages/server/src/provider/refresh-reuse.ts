import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import type { Adapter, AdapterConstructor } from 'oidc-provider';

/**
 * Serializes redemptions of one refresh token, so that inside REFRESH_TOKEN_REUSE_INTERVAL a
 * retried request sees the first one's outcome (its successor) instead of racing it.
 */
export interface RefreshSerializer {
  /** Resolves with a release function once no other redemption of `tokenId` is in flight. */
  acquire(tokenId: string): Promise<() => Promise<void>>;
}

const LOCK_TTL_MS = 10_000;
const WAIT_LIMIT_MS = 5_000;

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

/** A Redis `SET NX PX` lock per token, shared by every Gatehouse instance. */
export function redisRefreshSerializer(conn: Redis | Cluster): RefreshSerializer {
  return {
    async acquire(tokenId) {
      const key = `gatehouse:rt-lock:{${tokenId}}`;
      const owner = crypto.randomUUID();
      const deadline = Date.now() + WAIT_LIMIT_MS;
      // If the lock cannot be had in time we proceed anyway: the adapter's atomic consume()
      // still guarantees a single winner, this only decides who gets the reuse-window answer.
      while (Date.now() < deadline) {
        if ((await conn.set(key, owner, 'PX', LOCK_TTL_MS, 'NX')) === 'OK') break;
        await sleep(20);
      }
      return async () => {
        await conn.eval(
          "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
          1,
          key,
          owner,
        );
      };
    },
  };
}

/** Links a rotated refresh token to its successor for the length of the reuse interval. */
export class SuccessorLinks {
  readonly #adapter: Adapter;
  readonly #ttl: number;

  constructor(Adapter: AdapterConstructor, reuseInterval: number) {
    this.#adapter = new Adapter('RefreshTokenSuccessor');
    this.#ttl = reuseInterval + 60;
  }

  async successorOf(tokenId: string): Promise<string | undefined> {
    const link = await this.#adapter.find(tokenId);
    const successor = (link as { successor?: unknown } | undefined)?.successor;
    return typeof successor === 'string' ? successor : undefined;
  }

  async link(tokenId: string, successor: string): Promise<void> {
    await this.#adapter.upsert(tokenId, { successor } as never, this.#ttl);
  }
}
