import type { Cluster, Redis } from 'ioredis';
import { LOCKOUT_CHANNEL, LOCKOUTS_KEY } from '../store/keys.ts';
import type { StoreBackend } from '../store/store-backend.ts';

/** A lockout in force: the limiter key of the check that tripped, and when it ends (epoch ms). */
export interface LockoutNotice {
  readonly key: string;
  readonly until: number;
}

export interface LockoutWatch {
  /** A lockout in force, from the store at (re)subscription or announced since. */
  readonly onLockout: (notice: LockoutNotice) => void;
  /** Every lockout in force at (re)subscription has been delivered: from now on, new ones arrive as they start. */
  readonly onReady?: (() => void) | undefined;
  /**
   * The subscription was lost and is back: notices may have been missed in between (those still
   * in force are delivered again right after). What was decided without them should be decided again.
   */
  readonly onResubscribed?: (() => void) | undefined;
  /** Errors of the subscriber connection (it reconnects by itself). */
  readonly onError?: ((err: unknown) => void) | undefined;
}

/**
 * Lockouts shared by every instance. The counters in Redis decide every attempt the limiter
 * admits; this tells the instances about a lockout as it starts, so that what an instance lets
 * through without asking Redis (a credential it saw authenticate) is refused everywhere, not
 * only where the lockout was seen. In-process on the memory store (one instance).
 */
export interface LockoutBroadcast {
  /** Records a lockout that just started and tells every subscribed instance. */
  announce(notice: LockoutNotice): Promise<void>;
  /** Delivers the lockouts in force, then each new one; returns the unsubscribe function. */
  watch(watcher: LockoutWatch): () => void;
}

function parseNotice(message: string): LockoutNotice | undefined {
  try {
    const { key, until } = JSON.parse(message) as { key?: unknown; until?: unknown };
    return typeof key === 'string' && typeof until === 'number' ? { key, until } : undefined;
  } catch {
    return undefined;
  }
}

function redisBroadcast(conn: Redis | Cluster): LockoutBroadcast {
  const inForce = async (): Promise<LockoutNotice[]> => {
    const reply = await conn.zrangebyscore(LOCKOUTS_KEY, Date.now(), '+inf', 'WITHSCORES');
    const notices: LockoutNotice[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      notices.push({ key: reply[i] as string, until: Number(reply[i + 1]) });
    }
    return notices;
  };
  return {
    async announce(notice) {
      // The set first, then the message: an instance that (re)subscribes in between reads it there.
      await conn.zadd(LOCKOUTS_KEY, notice.until, notice.key);
      await conn.zremrangebyscore(LOCKOUTS_KEY, '-inf', Date.now());
      await conn.publish(LOCKOUT_CHANNEL, JSON.stringify(notice));
    },
    watch(watcher) {
      const onError = watcher.onError ?? (() => {});
      const subscriber: Redis | Cluster = conn.isCluster
        ? (conn as Cluster).duplicate()
        : (conn as Redis).duplicate();
      let subscribedBefore = false;
      let closed = false;
      let waitingForStore = false;
      /**
       * Once closed, what the subscriber still reports (a connection that completes after the
       * disconnect and fails its handshake) is the closing itself, not an error.
       */
      const reportWhileOpen = (err: unknown): void => {
        if (!closed) onError(err);
      };
      /**
       * Delivers the lockouts in force, then `onReady`. They are read on the store's connection
       * (the subscriber can only listen); after Redis comes back the subscriber may be ready before
       * that connection, whose commands then fail at once (no offline queue): read when it is ready.
       */
      const deliver = (): void => {
        inForce().then(
          (notices) => {
            if (closed) return;
            for (const notice of notices) watcher.onLockout(notice);
            watcher.onReady?.();
          },
          (err: unknown) => {
            if (closed) return;
            if (conn.status === 'ready') return onError(err);
            if (waitingForStore) return;
            waitingForStore = true;
            conn.once('ready', () => {
              waitingForStore = false;
              if (!closed) deliver();
            });
          },
        );
      };
      subscriber.on('error', reportWhileOpen);
      subscriber.on('message', (channel: string, message: string) => {
        if (channel !== LOCKOUT_CHANNEL) return;
        const notice = parseNotice(message);
        if (notice) watcher.onLockout(notice);
      });
      // After (re)connecting: subscribe first, then read the set, so nothing falls between the two.
      subscriber.on('ready', () => {
        if (subscribedBefore) watcher.onResubscribed?.();
        subscribedBefore = true;
        subscriber.subscribe(LOCKOUT_CHANNEL).then(deliver, onError);
      });
      if (subscriber.status === 'wait') subscriber.connect().catch(reportWhileOpen);
      return () => {
        closed = true;
        subscriber.disconnect();
      };
    },
  };
}

function memoryBroadcast(): LockoutBroadcast {
  const watchers = new Set<LockoutWatch>();
  const live = new Map<string, number>();
  return {
    async announce(notice) {
      live.set(notice.key, Math.max(notice.until, live.get(notice.key) ?? 0));
      for (const watcher of watchers) watcher.onLockout(notice);
    },
    watch(watcher) {
      watchers.add(watcher);
      const now = Date.now();
      for (const [key, until] of live) {
        if (until > now) watcher.onLockout({ key, until });
        else live.delete(key);
      }
      watcher.onReady?.();
      return () => watchers.delete(watcher);
    },
  };
}

/**
 * The lockout broadcast on `backend`: Redis pub/sub plus a sorted set of the lockouts in force
 * (`gatehouse:lockouts`), or in-process.
 *
 * @example
 * const lockouts = createLockoutBroadcast({ kind: 'redis', conn });
 * const stop = lockouts.watch({ onLockout: ({ key, until }) => remember(key, until) });
 */
export function createLockoutBroadcast(backend: StoreBackend): LockoutBroadcast {
  return backend.kind === 'redis' ? redisBroadcast(backend.conn) : memoryBroadcast();
}
