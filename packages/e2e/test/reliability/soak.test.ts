import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDemoApi, type DemoApi } from '@gatehouse/demo-api';
import type { GatehouseServer } from '@gatehouse/server';
import { freePort, type RedisProcess, startRedis } from '@gatehouse/testkit';
import { basic, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { type GatehouseProcess, type ProcessMemory, startGatehouseProcess } from '@gatehouse/testkit/process';
import { accountFor, refreshSpa, signInSpa, startInteractionDriver } from '@gatehouse/testkit/sign-in';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latencySummary, mb } from '../support/measure.ts';

/** 60 s with GATEHOUSE_SOAK=1 (long enough for slow leaks to show), otherwise a 10 s version for every run. */
const LONG = process.env.GATEHOUSE_SOAK === '1';
const SOAK_MS = LONG ? 60_000 : 10_000;
const WARM_UP_MS = 2_000;
/** Pause between one worker's operations: bounded load on a shared machine. */
const THINK_MS = 5;

/** Every key without a TTL (SCAN + TTL), the ones that can only grow. */
async function keysWithoutTtl(redis: Redis): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    const ttls = await Promise.all(keys.map((key) => redis.ttl(key)));
    keys.forEach((key, i) => {
      if (ttls[i] === -1) found.push(key);
    });
  } while (cursor !== '0');
  return found.sort();
}

describe(`soak: ${SOAK_MS / 1000} s of mixed load (client credentials, refresh, introspection, API calls)${LONG ? '' : ' — short version; GATEHOUSE_SOAK=1 runs 60 s'}`, () => {
  let redis: RedisProcess;
  let gh: GatehouseProcess;
  let driver: GatehouseServer;
  let api: DemoApi;
  let apiServer: Server;
  let apiConnection: Redis;
  let inspect: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    gh = await startGatehouseProcess({ redisUrl: redis.url, memoryProbe: true });
    driver = await startInteractionDriver({ issuer: gh.issuer, redisUrl: redis.url });
    apiConnection = new Redis(redis.url);
    // The audience is the default resource's name; the socket is on a free port.
    api = createDemoApi({ issuer: gh.issuer, apiUrl: 'http://localhost:4001', redis: apiConnection });
    apiServer = api.listen(await freePort(), '127.0.0.1');
    await once(apiServer, 'listening');
    inspect = new Redis(redis.url);
  });
  afterAll(async () => {
    api?.close();
    apiServer?.close();
    apiConnection?.disconnect();
    inspect?.disconnect();
    await driver?.close();
    await gh?.cleanup();
    await redis?.cleanup();
  });

  it(
    'keeps memory and the keys without TTL flat; every request answered without a 5xx',
    async () => {
      const apiUrl = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
      const tokenUrl = `${gh.url}/token`;
      const latencies: Record<string, number[]> = {};
      const failures: { kind: string; status: number; body: string }[] = [];
      let stopped = false;
      const timed = async <T extends { status: number }>(kind: string, run: () => Promise<T>, ok = 200) => {
        const start = performance.now();
        const result = await run();
        const list = latencies[kind] ?? [];
        latencies[kind] = list;
        list.push(performance.now() - start);
        if (result.status !== ok)
          failures.push({ kind, status: result.status, body: JSON.stringify(result).slice(0, 300) });
        return result;
      };
      const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

      const clientCredentialsWorker = async () => {
        while (!stopped) {
          const cc = await timed('client_credentials', () =>
            postForm(
              tokenUrl,
              { grant_type: 'client_credentials', scope: 'recipes:read' },
              basic('service', SERVICE_SECRET),
            ),
          );
          const token = String(cc.body.access_token);
          await timed('api GET /me (service)', () => fetch(`${apiUrl}/me`, bearer(token)).then(drain));
          await sleep(THINK_MS);
        }
      };
      const refreshWorker = async (n: number) => {
        const { token } = await signInSpa(driver, { tokenUrl, account: `soak-${n}` });
        let refreshToken = String(token?.body.refresh_token);
        while (!stopped) {
          const rotated = await timed('refresh', () => refreshSpa(tokenUrl, refreshToken));
          if (rotated.status !== 200) break;
          refreshToken = String(rotated.body.refresh_token);
          const accessToken = String(rotated.body.access_token);
          const introspection = await timed('introspect', () =>
            postForm(`${gh.url}/introspect`, { token: accessToken, client_id: 'spa' }),
          );
          if (introspection.body.active !== true)
            failures.push({ kind: 'introspect', status: 200, body: 'inactive' });
          await timed('api GET /me/recipes (user)', () =>
            fetch(`${apiUrl}/me/recipes`, bearer(accessToken)).then(drain),
          );
          await sleep(THINK_MS);
        }
      };

      // Accounts are permanent by design (no TTL): create them before the baseline.
      for (let n = 0; n < 4; n++) await accountFor(driver, `soak-${n}`);
      // Warm-up (JIT, pools, first keys), then the baseline.
      stopped = false;
      const warm = [clientCredentialsWorker(), refreshWorker(0)];
      await sleep(WARM_UP_MS);
      stopped = true;
      await Promise.all(warm);
      const memoryBefore = await gh.memory();
      const noTtlBefore = await keysWithoutTtl(inspect);
      const dbsizeBefore = await inspect.dbsize();
      const counts = () => Object.values(latencies).reduce((n, l) => n + l.length, 0);
      const operationsBefore = counts();
      const rotationsBefore = latencies.refresh?.length ?? 0;

      stopped = false;
      const rss: number[] = [];
      const heap: ProcessMemory[] = [];
      const workers = [
        clientCredentialsWorker(),
        clientCredentialsWorker(),
        refreshWorker(1),
        refreshWorker(2),
        refreshWorker(3),
      ];
      const started = performance.now();
      while (performance.now() - started < SOAK_MS) {
        await sleep(Math.min(5_000, SOAK_MS / 5));
        heap.push(await gh.memory());
        rss.push((await gh.rss()) ?? 0);
      }
      stopped = true;
      await Promise.all(workers);

      const memoryAfter = await gh.memory();
      const noTtlAfter = await keysWithoutTtl(inspect);
      const dbsizeAfter = await inspect.dbsize();
      const info = await inspect.info('memory');
      const usedMemory = info.match(/^used_memory_human:(.+)$/m)?.[1]?.trim();
      const operations = counts() - operationsBefore;
      const rotations = (latencies.refresh?.length ?? 0) - rotationsBefore;
      console.log(
        [
          `soak ${SOAK_MS / 1000} s: ${operations} operations (${((operations / SOAK_MS) * 1000).toFixed(0)}/s)`,
          ...Object.entries(latencies).map(([kind, l]) => `  ${kind}: ${latencySummary(l)}`),
          `heapUsed after GC: ${mb(memoryBefore.heapUsed)} after warm-up → ${mb(memoryAfter.heapUsed)} at the end (samples: ${heap.map((m) => mb(m.heapUsed)).join(', ')}; gc: ${memoryAfter.gc})`,
          `external (Buffers, native): ${mb(memoryBefore.external)} after warm-up → ${mb(memoryAfter.external)} at the end; heapTotal ${mb(memoryBefore.heapTotal)} → ${mb(memoryAfter.heapTotal)}`,
          `RSS: ${mb(memoryBefore.rss)} after warm-up → ${mb(memoryAfter.rss)} at the end (samples: ${rss.map(mb).join(', ')})`,
          `Redis DBSIZE: ${dbsizeBefore} → ${dbsizeAfter} (+${dbsizeAfter - dbsizeBefore} for ${rotations} rotations; used_memory ${usedMemory}); keys without TTL: ${noTtlBefore.length} → ${noTtlAfter.length}`,
          `keys without TTL: ${noTtlAfter.join(', ')}`,
        ].join('\n'),
      );

      expect(failures).toEqual([]);
      expect(gh.alive()).toBe(true);
      // Keys created by the soak all expire: the set of keys without a TTL did not grow.
      expect(noTtlAfter.filter((key) => !noTtlBefore.includes(key))).toEqual([]);
      // Memory flat: the heap after GC may wander, but not by a leak's margin (bounds generous,
      // the numbers are logged above).
      expect(memoryAfter.heapUsed).toBeLessThan(memoryBefore.heapUsed + 48 * 1024 * 1024);
      // RSS climbs to a plateau (~250 MB here) while V8 grows its heap reservation (heapTotal)
      // under load, then stays flat; heapUsed after GC above is the leak detector, this bound
      // only catches a runaway.
      expect(memoryAfter.rss).toBeLessThan(memoryBefore.rss + 160 * 1024 * 1024);
    },
    SOAK_MS + 60_000,
  );
});

async function drain(response: Response): Promise<{ status: number }> {
  await response.arrayBuffer();
  return { status: response.status };
}
