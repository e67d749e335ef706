import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLockoutBroadcast, type LockoutNotice } from './lockout-broadcast.ts';

describe('lockout broadcast on Redis', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.cleanup());

  it('a subscriber ready before the store connection reads the lockouts in force once that connection is ready, and reports no error', async () => {
    const other = new Redis(redis.url);
    // The store's connection, as Gatehouse makes it (no offline queue), down: as after a Redis
    // restart, when the subscriber can reconnect first. Its commands fail at once.
    const conn = new Redis(redis.url, { enableOfflineQueue: false });
    await new Promise((resolve) => conn.once('ready', resolve));
    conn.disconnect();
    try {
      await createLockoutBroadcast({ kind: 'redis', conn: other }).announce({
        key: 'client:203.0.113.9',
        until: Date.now() + 60_000,
      });
      const notices: LockoutNotice[] = [];
      const errors: unknown[] = [];
      let ready!: () => void;
      const isReady = new Promise<void>((resolve) => {
        ready = resolve;
      });
      const stop = createLockoutBroadcast({ kind: 'redis', conn }).watch({
        onLockout: (notice) => notices.push(notice),
        onReady: ready,
        onError: (err) => errors.push(err),
      });
      // The subscriber (its own connection) subscribes and tries to read while the store's is down.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(notices).toEqual([]);
      await conn.connect();
      await isReady;
      expect(notices.map((notice) => notice.key)).toEqual(['client:203.0.113.9']);
      expect(errors).toEqual([]);
      stop();
    } finally {
      conn.disconnect();
      other.disconnect();
    }
  });

  it('a watch stopped before its subscriber has connected reports no error (a server stopped right after it started)', async () => {
    const conn = new Redis(redis.url, { enableOfflineQueue: false });
    await new Promise((resolve) => conn.once('ready', resolve));
    try {
      const errors: unknown[] = [];
      // Stopped at moments between the connect's start and its handshake.
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const stop = createLockoutBroadcast({ kind: 'redis', conn }).watch({
            onLockout: () => {},
            onError: (err) => errors.push(err),
          });
          await new Promise((resolve) => setTimeout(resolve, i % 5));
          stop();
        }),
      );
      // The subscribers' connections complete after the stop and fail their handshake: the stop, not an error.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(errors).toEqual([]);
    } finally {
      conn.disconnect();
    }
  });
});
