import { keySetAt, loadKeys, RedisKeyRepository } from '@gatehouse/server/internal/keys';
import { TEST_CLIENTS } from '@gatehouse/testkit/clients';
import { Redis } from 'ioredis';
import Provider from 'oidc-provider';
import { API_AUDIENCE } from '../support/audience.ts';
import { minimalRedisAdapter } from './minimal-redis-adapter.ts';

/**
 * Bare oidc-provider 9 for the client-credentials comparison: the same client, the same ES256
 * signing key (read from the Gatehouse instance's Redis with the shared secret), the same JWT
 * access-token format and audience, on {@link minimalRedisAdapter}. Nothing else.
 * Env: PORT, ISSUER, REDIS_URL, GATEHOUSE_SECRET.
 */
const env = process.env as Record<string, string>;
const redis = new Redis(env.REDIS_URL!);
const records = await loadKeys(new RedisKeyRepository(redis), env.GATEHOUSE_SECRET!);
if (records.length === 0) throw new Error('no signing keys in Redis: start Gatehouse on it first');
const { published } = keySetAt(records, Math.floor(Date.now() / 1000));
const scope = 'recipes:read recipes:write';

const provider = new Provider(env.ISSUER!, {
  adapter: minimalRedisAdapter(redis),
  // The one client the comparison uses; the others need features (the device flow) left off here.
  clients: TEST_CLIENTS.filter((client) => client.client_id === 'service'),
  jwks: { keys: published.map((jwk) => ({ ...jwk })) as never },
  cookies: { keys: ['bench-cookie-key-0123456789abcdef'] },
  scopes: ['openid', 'offline_access', ...scope.split(' ')],
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => API_AUDIENCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope,
        audience: API_AUDIENCE,
        accessTokenTTL: 900,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});
const server = provider.listen(Number(env.PORT));
process.on('SIGTERM', () => {
  server.close();
  redis.disconnect();
  process.exit(0);
});
