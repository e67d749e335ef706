import { freePort, type RedisProcess } from '@gatehouse/testkit';
import type { ClientMetadata } from 'oidc-provider';
import { loadConfig } from '../../src/config.ts';
import { createGatehouseServer, type GatehouseOptions, type GatehouseServer } from '../../src/server.ts';

export const API = 'http://localhost:4001';
export const REDIRECT_URI = 'http://localhost:5173/callback';
export const SERVICE_SECRET = 'service-secret-0123456789abcdef0123456789';
export const WEB_SECRET = 'web-secret-0123456789abcdef0123456789abcd';

/** Clients every server test can use. */
export const TEST_CLIENTS: ClientMetadata[] = [
  {
    client_id: 'spa',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT_URI],
    application_type: 'web',
  },
  {
    client_id: 'web',
    client_secret: WEB_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT_URI],
  },
  {
    client_id: 'other-web',
    client_secret: `${WEB_SECRET}-other`,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT_URI],
  },
  {
    client_id: 'service',
    client_secret: SERVICE_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    scope: 'recipes:read recipes:write',
  },
  {
    client_id: 'cli',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    redirect_uris: [],
    response_types: [],
    application_type: 'native',
  },
];

export interface StartedGatehouse {
  readonly server: GatehouseServer;
  readonly issuer: string;
  stop(): Promise<void>;
}

/** Starts a Gatehouse server on a free port (in-process store unless `redis` is given). */
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
