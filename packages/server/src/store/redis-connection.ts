import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** Where Redis lives; the `redis` part of the server `Config` without the in-process case. */
export type RedisTarget =
  | { readonly kind: 'standalone'; readonly url: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly { host: string; port: number }[] };

/** A command waits at most this long; a slow Redis answers 503 instead of holding requests. */
export const COMMAND_TIMEOUT_MS = 1_000;
const CONNECT_TIMEOUT_MS = 2_000;
/** Reconnect delay cap: the server notices a returning Redis within a second. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/** Keep reconnecting forever with capped backoff, so a Redis that comes back is used again. */
function reconnectDelay(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 10), MAX_RECONNECT_DELAY_MS);
}

/**
 * Fail-fast options shared by standalone and cluster node connections: while Redis is away
 * commands reject at once (no offline queue, one retry at most) instead of piling up behind a
 * reconnect, so the adapter turns them into 503s and the HTTP layer stays responsive.
 */
const failFast = {
  commandTimeout: COMMAND_TIMEOUT_MS,
  connectTimeout: CONNECT_TIMEOUT_MS,
  maxRetriesPerRequest: 1,
  // Commands issued in the same tick share one write (and Redis one read): under concurrent
  // requests that is most of the socket time. Each command still answers (or fails, or times
  // out) on its own, so a script's EVALSHA → EVAL fallback and MULTI are unaffected.
  enableAutoPipelining: true,
} satisfies RedisOptions;

/**
 * Opens a Redis connection that fails fast and heals by itself.
 *
 * @example
 * const conn = createRedisConnection({ kind: 'standalone', url: 'redis://127.0.0.1:6380' });
 * await waitUntilReady(conn, 5_000);
 */
export function createRedisConnection(target: RedisTarget): Redis | Cluster {
  if (target.kind === 'standalone') {
    return new Redis(target.url, {
      ...failFast,
      enableOfflineQueue: false,
      retryStrategy: reconnectDelay,
    });
  }
  return new Cluster(
    target.nodes.map((node) => ({ host: node.host, port: node.port })),
    {
      enableOfflineQueue: false,
      clusterRetryStrategy: reconnectDelay,
      // A node that restarts without slot changes (no replicas) must be reconnected too.
      clusterNodeRetryStrategy: reconnectDelay,
      // Redirection retries happen inside one command; keep them within the command budget.
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      maxRedirections: 6,
      slotsRefreshTimeout: COMMAND_TIMEOUT_MS,
      redisOptions: failFast,
    },
  );
}

/** Resolves `true` when Redis answers PING within the command timeout, `false` otherwise. */
export async function isRedisAvailable(conn: Redis | Cluster): Promise<boolean> {
  try {
    return (await conn.ping()) === 'PONG';
  } catch {
    return false;
  }
}

/**
 * Waits until the connection is ready (commands are rejected before that, since the offline
 * queue is off). Resolves `false` when `timeoutMs` passes first; the connection keeps retrying.
 */
export function waitUntilReady(conn: Redis | Cluster, timeoutMs: number): Promise<boolean> {
  if (conn.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      conn.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    conn.on('ready', onReady);
  });
}

/**
 * Closes gracefully (QUIT, so replies in flight arrive) and resolves once the connection has
 * ended; falls back to a hard disconnect when Redis does not answer within the command timeout.
 */
export async function closeRedisConnection(conn: Redis | Cluster): Promise<void> {
  if (conn.status === 'end') return;
  const ended = new Promise<void>((resolve) => conn.once('end', () => resolve()));
  const timeout = new Promise<'timeout'>((resolve) =>
    setTimeout(() => resolve('timeout'), COMMAND_TIMEOUT_MS).unref(),
  );
  const quit = conn.quit().then(
    () => ended,
    () => 'timeout' as const,
  );
  if ((await Promise.race([quit, timeout])) === 'timeout') {
    conn.disconnect();
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, COMMAND_TIMEOUT_MS).unref())]);
  }
}
