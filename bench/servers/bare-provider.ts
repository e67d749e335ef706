import { writeFile } from 'node:fs/promises';
import { keySetAt, loadKeys, RedisKeyRepository } from '@gatehouse/server/internal/keys';
import { TEST_CLIENTS } from '@gatehouse/testkit/clients';
import { Redis } from 'ioredis';
import Provider from 'oidc-provider';
import { API_AUDIENCE } from '../support/audience.ts';
import { minimalRedisAdapter } from './minimal-redis-adapter.ts';

/**
 * Bare oidc-provider 9 for the comparisons: the same clients, the same signing keys (ES256 for access
 * tokens, RS256 for ID tokens; read from the Gatehouse instance's Redis with the shared secret), the same JWT access-token format and
 * audience, on {@link minimalRedisAdapter}. Nothing else.
 * Env: PORT, ISSUER, REDIS_URL, GATEHOUSE_SECRET; REFRESH_POOL=<n> and REFRESH_POOL_FILE=<path>
 * for the refresh comparison (see {@link issueRefreshPool}).
 */
const env = process.env as Record<string, string>;
const redis = new Redis(env.REDIS_URL!);
const records = await loadKeys(new RedisKeyRepository(redis), env.GATEHOUSE_SECRET!);
if (records.length === 0) throw new Error('no signing keys in Redis: start Gatehouse on it first');
const { published } = keySetAt(records, Math.floor(Date.now() / 1000));
const scope = 'recipes:read recipes:write';
const accountKey = (id: string) => `bare:account:${id}`;

const provider = new Provider(env.ISSUER!, {
  adapter: minimalRedisAdapter(redis),
  // The clients the comparisons use; the others need features (the device flow) left off here.
  clients: TEST_CLIENTS.filter((client) => client.client_id === 'service' || client.client_id === 'spa'),
  jwks: { keys: published.map((jwk) => ({ ...jwk })) as never },
  cookies: { keys: ['bench-cookie-key-0123456789abcdef'] },
  scopes: ['openid', 'offline_access', ...scope.split(' ')],
  // ID tokens as Gatehouse signs them for a client that registers no algorithm: RS256 with the
  // generation's RSA key (in `published`), oidc-provider's own default too (OIDC Registration §2).
  clientDefaults: { id_token_signed_response_alg: 'RS256' },
  // An account store as small as the adapter: one Redis GET per lookup (Gatehouse reads its
  // account record from Redis too), so the refresh comparison does not favour the baseline.
  async findAccount(_ctx, id) {
    const stored = await redis.get(accountKey(id));
    if (stored === null) return undefined;
    return { accountId: id, claims: () => ({ sub: id }) };
  },
  // RFC 9700 §4.14.2, as Gatehouse: rotate on every use; lifetimes as Gatehouse's defaults.
  rotateRefreshToken: true,
  ttl: { Grant: 14 * 24 * 3600, RefreshToken: 14 * 24 * 3600, Session: 14 * 24 * 3600, AccessToken: 900 },
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

/**
 * `count` signed-in users of the `spa` client, written through oidc-provider's own models: a Session
 * (with the authorization a consent leaves), a Grant (openid + recipes:read for the API) and the
 * refresh token a code exchange issues, with the same claims as Gatehouse's (session-bound,
 * resource-bound, gty authorization_code). The sign-in itself is not what is compared, and a bare
 * oidc-provider has no login pages: the tokens are what a sign-in would leave, no more.
 */
async function issueRefreshPool(count: number): Promise<string[]> {
  const client = await provider.Client.find('spa');
  if (!client) throw new Error('no spa client');
  const ttl = 14 * 24 * 3600;
  const values: string[] = [];
  for (let i = 0; i < count; i++) {
    const accountId = `bench-user-${i % 20}`;
    await redis.set(accountKey(accountId), JSON.stringify({ sub: accountId }));
    const grant = new provider.Grant({ accountId, clientId: 'spa' });
    grant.addOIDCScope('openid offline_access');
    grant.addResourceScope(API_AUDIENCE, 'recipes:read');
    const grantId = await grant.save();
    const session = new provider.Session();
    session.accountId = accountId;
    session.loginTs = Math.floor(Date.now() / 1000);
    const sid = `sid-${i}-${Date.now()}`;
    session.authorizations = { spa: { sid, grantId } };
    await session.save(ttl);
    const token = new provider.RefreshToken({
      accountId,
      authTime: Math.floor(Date.now() / 1000),
      client,
      expiresWithSession: true,
      grantId,
      gty: 'authorization_code',
      resource: API_AUDIENCE,
      scope: 'openid recipes:read',
      sessionUid: session.uid,
      sid,
    });
    values.push(await token.save());
  }
  return values;
}

if (env.REFRESH_POOL && env.REFRESH_POOL_FILE) {
  await writeFile(env.REFRESH_POOL_FILE, JSON.stringify(await issueRefreshPool(Number(env.REFRESH_POOL))));
}
const server = provider.listen(Number(env.PORT));
process.on('SIGTERM', () => {
  server.close();
  redis.disconnect();
  process.exit(0);
});
