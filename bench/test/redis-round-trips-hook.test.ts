import { freePort, startRedis } from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What scenario 9 calls a round trip: one write to Redis, whatever it carries.
describe('the Redis round-trip counter (bench/support/redis-round-trips-hook.ts)', () => {
  let server: Awaited<ReturnType<typeof startRedis>>;
  let redis: Redis;
  let counter: string;
  beforeAll(async () => {
    server = await startRedis();
    const port = await freePort();
    process.env.BENCH_REDIS_PORT = new URL(server.url).port;
    process.env.BENCH_ROUND_TRIPS_PORT = String(port);
    counter = `http://127.0.0.1:${port}/`;
    await import('../support/redis-round-trips-hook.ts');
    redis = new Redis(server.url);
    await redis.ping();
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.cleanup();
  });
  const writes = async () => ((await (await fetch(counter)).json()) as { writes: number }).writes;
  const roundTrips = async (work: () => Promise<unknown>) => {
    const before = await writes();
    await work();
    return (await writes()) - before;
  };

  it('counts a single command as one round trip', async () => {
    expect(await roundTrips(() => redis.get('a'))).toBe(1);
  });

  it('counts a pipeline and a MULTI/EXEC transaction as one round trip each', async () => {
    expect(await roundTrips(() => redis.pipeline().set('a', '1').get('a').del('a').exec())).toBe(1);
    expect(await roundTrips(() => redis.multi().incr('b').expire('b', 60).exec())).toBe(1);
  });

  it('counts commands awaited one after the other as one round trip each', async () => {
    expect(
      await roundTrips(async () => {
        await redis.set('c', '1');
        await redis.get('c');
        await redis.del('c');
      }),
    ).toBe(3);
  });
});
