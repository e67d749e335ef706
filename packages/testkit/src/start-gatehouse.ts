import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createGatehouseServer,
  type GatehouseOptions,
  type GatehouseServer,
  loadConfig,
} from '@gatehouse/server';
import { afterAll, beforeAll } from 'vitest';
import { TEST_CLIENTS } from './clients.ts';
import { freePort } from './free-port.ts';
import { type RedisProcess, type StartRedisOptions, startRedis } from './redis-process.ts';

/** A Gatehouse server running in the test's own process. */
export interface StartedGatehouse {
  readonly server: GatehouseServer;
  readonly issuer: string;
  stop(): Promise<void>;
}

/** An API the server issues access tokens for: one entry of `GATEHOUSE_RESOURCES_FILE`. */
export interface TestResource {
  readonly uri: string;
  readonly scopes: readonly string[];
  readonly accessTokenTTL?: number;
}

export interface StartGatehouseOptions {
  /** A standalone Redis, or a Cluster's `seeds`; the in-process store when omitted. */
  redis?: RedisProcess | { seeds: string };
  env?: Record<string, string>;
  gatehouse?: GatehouseOptions;
  /** Written to a temporary `GATEHOUSE_RESOURCES_FILE` (removed when the server stops). */
  resources?: readonly TestResource[];
}

/**
 * Starts a Gatehouse server in this process on a free port, with {@link TEST_CLIENTS}: the in-process
 * store unless `redis` (a standalone Redis, or a Cluster's `seeds`) is given.
 */
export async function startGatehouse(options: StartGatehouseOptions = {}): Promise<StartedGatehouse> {
  const port = await freePort();
  const resourcesDir = options.resources ? await mkdtemp(join(tmpdir(), 'gatehouse-resources-')) : undefined;
  const removeResources = () =>
    resourcesDir ? rm(resourcesDir, { recursive: true, force: true }) : Promise.resolve();
  try {
    const resourcesFile = resourcesDir && join(resourcesDir, 'resources.json');
    if (resourcesFile) await writeFile(resourcesFile, JSON.stringify(options.resources));
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      PORT: String(port),
      GATEHOUSE_SECRET: 'test-secret-test-secret-test-secret-0123',
      ...(options.redis && 'url' in options.redis ? { REDIS_URL: options.redis.url } : {}),
      ...(options.redis && 'seeds' in options.redis ? { REDIS_CLUSTER_NODES: options.redis.seeds } : {}),
      ...(resourcesFile ? { GATEHOUSE_RESOURCES_FILE: resourcesFile } : {}),
      ...options.env,
    };
    const config = loadConfig(env);
    const server = await createGatehouseServer(config, {
      clients: TEST_CLIENTS,
      onError: (err) => console.error('gatehouse error:', err),
      ...options.gatehouse,
    });
    await server.listen(port);
    return {
      server,
      issuer: config.issuer,
      stop: async () => {
        try {
          await server.close();
        } finally {
          await removeResources();
        }
      },
    };
  } catch (err) {
    await removeResources();
    throw err;
  }
}

/** What {@link suiteGatehouse} starts: {@link startGatehouse}'s options, the Redis its own. */
export type SuiteGatehouseOptions = Omit<StartGatehouseOptions, 'redis'> & {
  /** `false`: the in-process store; options (e.g. `args` for AOF): how to start the suite's redis-server. */
  redis?: boolean | StartRedisOptions;
};

/** The suite's server from {@link suiteGatehouse}: its fields can be read once the suite's `beforeAll` ran. */
export interface SuiteGatehouse {
  readonly server: GatehouseServer;
  readonly issuer: string;
  /** The suite's private redis-server (reading it with `redis: false` throws). */
  readonly redis: RedisProcess;
}

/**
 * The Gatehouse of a test file or `describe` block: registers vitest hooks in the calling scope that
 * start a private `redis-server` and a Gatehouse on it before the scope's first test, and stop both
 * after its last (also when the start failed half-way). `redis: false` runs the in-process store,
 * `redis: { args: […] }` passes `redis-server` arguments.
 * Options that depend on something created at run time can be a function, called in that `beforeAll`.
 * Hooks the suite registers after this call run after the start and before the stop.
 *
 * @example
 * ```ts
 * const gh = suiteGatehouse({ env: { REFRESH_TOKEN_REUSE_INTERVAL: '30' } });
 * it('issues a token', async () => {
 *   expect((await fetch(`${gh.issuer}/token`, { method: 'POST' })).status).toBe(400);
 * });
 * ```
 */
export function suiteGatehouse(
  options: SuiteGatehouseOptions | (() => SuiteGatehouseOptions) = {},
): SuiteGatehouse {
  let redis: RedisProcess | undefined;
  let started: StartedGatehouse | undefined;
  beforeAll(async () => {
    const { redis: withRedis = true, ...rest } = typeof options === 'function' ? options() : options;
    if (withRedis) redis = await startRedis(withRedis === true ? {} : withRedis);
    started = await startGatehouse({ ...rest, ...(redis ? { redis } : {}) });
  });
  afterAll(async () => {
    try {
      await started?.stop();
    } finally {
      await redis?.cleanup();
    }
  });
  const running = (): StartedGatehouse => {
    if (!started) throw new Error("suiteGatehouse(): read before the suite's beforeAll started the server");
    return started;
  };
  return {
    get server() {
      return running().server;
    },
    get issuer() {
      return running().issuer;
    },
    get redis() {
      if (!redis)
        throw new Error('suiteGatehouse(): no redis-server (started with redis: false, or not yet)');
      return redis;
    },
  };
}
