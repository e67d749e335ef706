import {
  createGatehouseServer,
  type GatehouseOptions,
  type GatehouseServer,
  loadConfig,
} from '@gatehouse/server';
import { TEST_CLIENTS } from './clients.ts';
import { freePort } from './free-port.ts';
import type { RedisProcess } from './redis-process.ts';

/** A Gatehouse server running in the test's own process. */
export interface StartedGatehouse {
  readonly server: GatehouseServer;
  readonly issuer: string;
  stop(): Promise<void>;
}

/**
 * Starts a Gatehouse server in this process on a free port, with {@link TEST_CLIENTS}: the in-process
 * store unless `redis` (a standalone Redis, or a Cluster's `seeds`) is given.
 */
export async function startGatehouse(
  options: {
    redis?: RedisProcess | { seeds: string };
    env?: Record<string, string>;
    gatehouse?: GatehouseOptions;
  } = {},
): Promise<StartedGatehouse> {
  const port = await freePort();
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: String(port),
    GATEHOUSE_SECRET: 'test-secret-test-secret-test-secret-0123',
    ...(options.redis && 'url' in options.redis ? { REDIS_URL: options.redis.url } : {}),
    ...(options.redis && 'seeds' in options.redis ? { REDIS_CLUSTER_NODES: options.redis.seeds } : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const server = await createGatehouseServer(config, {
    clients: TEST_CLIENTS,
    onError: (err) => console.error('gatehouse error:', err),
    ...options.gatehouse,
  });
  await server.listen(port);
  return { server, issuer: config.issuer, stop: () => server.close() };
}
