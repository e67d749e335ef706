import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRedis } from '@gatehouse/testkit';
import { BENCH_DIR, runWorker } from '../support/child.ts';
import type { BenchContext } from '../support/context.ts';
import type { Figure } from '../support/figure.ts';
import { startGatehouseProcess } from '../support/gatehouse-process.ts';
import { bytesByPrefix, deleteKeys, redisMemory } from '../support/redis-info.ts';
import { signIns } from '../support/sign-ins.ts';
import { round } from '../support/stats.ts';
import type { StoreGrantsInput, StoreGrantsPoint } from '../workers/store-grants.ts';

const SCENARIO = '7 Redis memory';
/** What a live grant may cost in Redis (issue 18): session + grant + refresh token and their indexes. */
const GRANT_BUDGET = 2048;
/** Keys a live grant has once its code expired: what the per-grant sum adds up. */
const GRANT_PREFIXES = ['Session', 'Grant', 'RefreshToken', 'grant-tokens', 'uid'];

/** Sum of MEMORY USAGE of one grant's keys, and the breakdown it is the sum of. */
function perGrant(byPrefix: Record<string, { keys: number; avgBytes: number }>, grants: number) {
  const parts = GRANT_PREFIXES.flatMap((name) => {
    const entry = byPrefix[`gatehouse:${name}`];
    return entry ? [{ name, perGrant: entry.keys / grants, bytes: entry.avgBytes }] : [];
  });
  return {
    bytes: parts.reduce((sum, p) => sum + p.perGrant * p.bytes, 0),
    breakdown: parts.map((p) => `${p.name} ${round(p.perGrant, 1)}x${p.bytes} B`).join(', '),
  };
}

/**
 * How memory grows with live grants: grants written through the Redis adapter (workers/store-grants.ts)
 * on a private Redis, measured at each count. Linear means the per-grant figures agree.
 */
async function growthFigures(ctx: BenchContext): Promise<Figure[]> {
  const counts = ctx.quick ? [1_000, 5_000] : [10_000, 100_000];
  const redis = await startRedis();
  try {
    const points = await runWorker<StoreGrantsPoint[]>(
      join(BENCH_DIR, 'workers/store-grants.ts'),
      { redisUrl: redis.url, counts } satisfies StoreGrantsInput,
      { timeoutMs: 900_000 },
    );
    const figures: Figure[] = points.map((point) => {
      const sum = perGrant(point.byPrefix, point.grants);
      return {
        scenario: SCENARIO,
        name: `live grant via the store API (${point.grants.toLocaleString('en-US')} grants)`,
        value: round(sum.bytes, 0),
        unit: 'bytes',
        target: `<= ${GRANT_BUDGET}`,
        pass: sum.bytes <= GRANT_BUDGET,
        note: `sum of MEMORY USAGE per key: ${sum.breakdown}; used_memory growth ${point.usedMemoryPerGrant} B and ${point.keysPerGrant} keys per grant; written in ${point.seconds}s`,
      };
    });
    const [small, large] = points;
    if (small && large) {
      const drift = large.usedMemoryPerGrant / small.usedMemoryPerGrant;
      figures.push({
        scenario: SCENARIO,
        name: `used_memory per grant, ${large.grants.toLocaleString('en-US')} vs ${small.grants.toLocaleString('en-US')} grants`,
        value: large.usedMemoryPerGrant,
        unit: 'bytes',
        ratio: round(drift),
        target: 'linear (ratio 0.9-1.1)',
        pass: drift >= 0.9 && drift <= 1.1,
        note: `${small.usedMemoryPerGrant} B per grant at ${small.grants.toLocaleString('en-US')}; used_memory includes Redis' own dict and expiry tables, which grow in powers of two`,
      });
    }
    return figures;
  } finally {
    await redis.cleanup();
  }
}
// oidc-provider's fixed authorization-code lifetime (configuration.ts): a consumed code lives this long.
const AUTHORIZATION_CODE_TTL = 60;

/**
 * Scenario 7: Redis memory per live grant after N full sign-ins, then after their TTL: memory and
 * key count must come back to the baseline by Redis expiry alone (no janitor process exists).
 *
 * Every record expires at its own issue time + REFRESH_TOKEN_TTL, so the TTL must outlast the
 * sign-in phase (or the first grants would be gone before the measurement): a calibration run
 * against the shared server sets it from the sign-in rate. The wait for expiry is idle time, so
 * the runner starts this scenario first and collects it last: the other scenarios run meanwhile
 * (on their own Redis and server; expiring keys cost the idle Redis little CPU).
 */
export async function startRedisMemory(ctx: BenchContext): Promise<{ finish(): Promise<Figure[]> }> {
  const count = ctx.quick ? 100 : 10_000;
  const shared = { issuer: ctx.gatehouse.issuer, redisUrl: ctx.redisUrl, clientId: 'spa' as const };
  // The first sign-in of each user creates its account (an argon2id hash): not part of the rate.
  await signIns({ ...shared, count: 20 });
  const calibration = await signIns({ ...shared, count: ctx.quick ? 15 : 200 });
  const rate = calibration.count / calibration.seconds;
  const ttl = Math.ceil((1.3 * count) / rate) + 10;
  ctx.log(`Redis memory: ${count} sign-ins at ~${round(rate, 0)}/s, REFRESH_TOKEN_TTL=${ttl}s`);

  const redis = await startRedis();
  let gatehouse: Awaited<ReturnType<typeof startGatehouseProcess>> | undefined;
  const cleanup = async () => {
    await gatehouse?.stop();
    await redis.cleanup();
  };
  try {
    // Access tokens may not outlive the refresh token family (config rule); they are JWTs, not stored.
    const env = { REFRESH_TOKEN_TTL: String(ttl), ACCESS_TOKEN_TTL: String(Math.min(ttl, 900)) };
    gatehouse = await startGatehouseProcess({ redisUrl: redis.url, env });
    const target = { issuer: gatehouse.issuer, redisUrl: redis.url, clientId: 'spa' as const, env };
    // Warm-up, then the baseline: the users' accounts (permanent data, not part of a grant) exist,
    // and Redis has loaded the adapter's Lua scripts and grown its dicts once. The warm-up's own
    // grants are deleted here; the measured ones are left to expire.
    await signIns({ ...target, count: 20 });
    await deleteKeys(redis.url, (key) => !/^gatehouse:(account|keys)\b/.test(key));
    const baseline = await redisMemory(redis.url);
    const started = Date.now();
    const run = await signIns({ ...target, count });
    const live = await redisMemory(redis.url);
    const lastWrite = Date.now();
    if ((Date.now() - started) / 1000 > ttl - 2) {
      throw new Error(
        `sign-ins took ${round(run.seconds, 0)}s, longer than the ${ttl}s TTL: early grants expired`,
      );
    }
    const byPrefix = await bytesByPrefix(redis.url);
    const growth = live.usedMemory - baseline.usedMemory;
    // The server has nothing left to do; stop it so that only Redis' own expiry is at work.
    await gatehouse.stop();
    gatehouse = undefined;
    // Per-grant records (the consumed authorization code is transient: it lives 60 s).
    const grant = perGrant(byPrefix, count);
    const code = byPrefix['gatehouse:AuthorizationCode'];
    const liveFigures: Figure[] = [
      {
        scenario: SCENARIO,
        name: 'live grant (session + grant + refresh token)',
        value: round(grant.bytes, 0),
        unit: 'bytes',
        target: `<= ${GRANT_BUDGET}`,
        pass: grant.bytes <= GRANT_BUDGET,
        note: `sum of MEMORY USAGE per key: ${grant.breakdown} (code excluded: 60 s TTL, ${code ? `${code.avgBytes} B` : 'gone'})`,
      },
      {
        scenario: SCENARIO,
        name: `used_memory per sign-in (${count.toLocaleString('en-US')} live)`,
        value: round(growth / count, 0),
        unit: 'bytes',
        note: `${round((live.keys - baseline.keys) / count, 1)} keys per sign-in, incl. consumed codes younger than 60 s`,
      },
      {
        scenario: SCENARIO,
        name: 'used_memory growth, live',
        value: round(growth / 2 ** 20, 1),
        unit: 'MiB',
        note: `DBSIZE ${baseline.keys} -> ${live.keys}; sign-ins took ${round(run.seconds, 0)}s`,
      },
    ];

    return {
      async finish() {
        try {
          // The expiry wait below is idle time: measure the growth on a Redis of its own meanwhile.
          const scaling = growthFigures(ctx);
          scaling.catch(() => {});
          // Everything a sign-in wrote expires at most max(TTL, code TTL) after the sign-in; the
          // last one ended at `lastWrite`. A minute more for Redis' sampling expiry cycle.
          const deadline = lastWrite + (Math.max(ttl, AUTHORIZATION_CODE_TTL) + 60) * 1000;
          ctx.log(
            `Redis memory: waiting up to ${Math.max(0, Math.round((deadline - Date.now()) / 1000))}s for expiry`,
          );
          let after = await redisMemory(redis.url);
          while (after.keys > baseline.keys && Date.now() < deadline) {
            await sleep(1000);
            after = await redisMemory(redis.url);
          }
          const left = after.usedMemory - baseline.usedMemory;
          // Back to baseline: the same key count, and what is still allocated does not grow with N
          // (at most 1% of the live growth, or a fixed 64 KiB of allocator and dict residue).
          const returned = after.keys <= baseline.keys && left <= Math.max(0.01 * growth, 64 * 1024);
          const leftover = returned ? '' : `; left: ${JSON.stringify(await bytesByPrefix(redis.url, 5))}`;
          return [
            ...liveFigures,
            ...(await scaling),
            {
              scenario: SCENARIO,
              name: `used_memory after TTL (${ttl}s) - baseline`,
              value: round(left / 1024, 1),
              unit: 'KiB',
              target: 'baseline',
              pass: returned,
              note: `DBSIZE ${after.keys} (baseline ${baseline.keys}); ${round(after.usedMemory / 2 ** 20, 2)} vs ${round(baseline.usedMemory / 2 ** 20, 2)} MiB${leftover}`,
            },
          ];
        } finally {
          await cleanup();
        }
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
